import ArgumentParser
import Daemon
import Events
import IMDS

/// `imdswatch get PATH|ATTRIBUTE... [--json]`, `get --all`, `get --match REGEX`, `get --list`: read metadata with one
/// token and concurrent requests. The tree walk and the attributes live in the IMDS module; this only wires them.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch metadata paths or attributes, or the whole tree as JSON.",
        discussion: """
            A PATH is relative to /latest/ (meta-data/instance-id, user-data, meta-data/ lists a directory) and is \
            printed byte for byte as served (a newline is added after a value that lacks one, except user-data). \
            A name without / that is not a top-level category (meta-data, dynamic, user-data) is an ATTRIBUTE. \
            A missing path or attribute exits 1 and names it.

            --all prints the whole tree as one JSON document: directories as objects, JSON documents embedded, \
            tags as an object; no user data, and credentials (iam/security-credentials/, identity-credentials/) \
            by name only.

            ATTRIBUTES:

            """ + MetadataAttribute.helpText
    )

    @OptionGroup var imds: IMDSOptions
    @OptionGroup var common: CommonOptions

    @Flag(
        name: .long,
        help:
            "Print {\"ARG\": value} in argument order, JSON documents embedded, null for a missing one (--all and --match always print JSON)."
    )
    var json = false

    @Flag(name: .long, help: "Print the whole tree as one JSON document.")
    var all = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Like --all, only the leaves whose path (relative to /latest/) matches REGEX.", valueName: "REGEX"))
    var match: String?

    @Flag(name: .long, help: "Print every leaf path of the tree, one per line.")
    var list = false

    @Argument(help: "Paths relative to /latest/, or attribute names.")
    var names: [String] = []

    func validate() throws {
        let modes = [all, match != nil, list, !names.isEmpty].filter { $0 }.count
        if modes == 0 {
            throw ValidationError(
                "give a path or attribute (e.g. meta-data/instance-id, region), or --all, --match or --list")
        }
        if modes > 1 { throw ValidationError("give paths/attributes, --all, --match or --list, not several of them") }
        if json, list { throw ValidationError("--list prints paths, one per line; --json does not apply to it") }
        if let match {
            do { _ = try Regex(match) } catch { throw ValidationError("invalid --match regex \(match): \(error)") }
        }
        // A CR, LF or other control character would break the request line: name the path, not the endpoint.
        if let bad = names.first(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            throw ValidationError(
                "invalid path \"\(bad.escapingControlCharacters)\": a metadata path has no control characters (e.g. meta-data/instance-id)"
            )
        }
        for name in names where Self.attribute(for: name) == nil && !Self.isPath(name) {
            throw ValidationError(
                "unknown attribute \(name): see imdswatch get --help for the list, or give a path such as meta-data/\(name)"
            )
        }
    }

    func run() async throws {
        let walk = MetadataWalk(client: try common.loadSettings(imds: imds).makeIMDSClient())
        do {
            if all {
                writeLine(try await walk.document().serialized())
            } else if let match {
                let regex = try Regex(match)
                writeLine(try await walk.document { (try? regex.firstMatch(in: $0)) != nil }.serialized())
            } else if list {
                for path in try await walk.leafPaths() {
                    guard writeLine(path) else { break }
                }
            } else {
                try await printValues(walk)
            }
        } catch let error as IMDSError {
            printError("imdswatch: \(error.message)")
            throw ExitCode(2)
        }
    }

    private func printValues(_ walk: MetadataWalk<some Clock<Duration>>) async throws {
        let values = try await read(names, with: walk)
        var members: [(String, JSONValue)] = []
        for (name, value) in zip(names, values) {
            if json {
                guard let value else {
                    members.append((name, .null))
                    continue
                }
                guard value.isText else {
                    printError("imdswatch: \(name) is not UTF-8 text, so --json cannot carry it; get it without --json")
                    throw ExitCode(2)
                }
                members.append((name, value.json))
            } else if let value {
                var bytes = value.bytes
                if name != MetadataPath.userData, bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
                writeOutput(bytes)
            }
        }
        if json { writeLine(JSONValue.object(members).serialized()) }
        let missing = zip(names, values).filter { $0.1 == nil }.map(\.0)
        for name in missing {
            let source = Self.attribute(for: name).map { " (\($0.path) answered 404)" } ?? " (404)"
            printError("imdswatch: \(name): not found\(source)")
        }
        if !missing.isEmpty { throw ExitCode.failure }
    }

    /// Reads every argument concurrently; each is an attribute or a path.
    private func read(_ names: [String], with walk: MetadataWalk<some Clock<Duration>>) async throws(IMDSError)
        -> [MetadataValue?]
    {
        var values: [MetadataValue?] = []
        // Attributes compose reads of their own; paths go through the walk's concurrent reader in one batch.
        let paths = names.filter { Self.attribute(for: $0) == nil }
        var pathValues = try await walk.read(paths).makeIterator()
        for name in names {
            if let attribute = Self.attribute(for: name) {
                values.append(try await attribute.read(with: walk))
            } else {
                values.append(
                    pathValues.next().flatMap { $0 }.map {
                        MetadataValue(path: name.drop { $0 == "/" }.description, bytes: $0)
                    })
            }
        }
        return values
    }

    private static func isPath(_ name: String) -> Bool {
        name.contains("/") || MetadataPath.categories.contains(name)
    }

    private static func attribute(for name: String) -> MetadataAttribute? {
        isPath(name) ? nil : MetadataAttribute.named(name)
    }
}
