import ArgumentParser
import Events
import HTTP
import IMDS

/// `imdswatch get PATH... [--json]`: fetch metadata paths with one token for the whole command.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch metadata paths (relative to /latest/, e.g. meta-data/instance-id).",
        discussion: "A directory path (ending in /) lists it. A missing path exits 1 and names it."
    )

    @OptionGroup var imds: IMDSOptions
    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Print {\"PATH\": value} with JSON documents embedded as JSON.")
    var json = false

    @Argument(help: "Paths relative to /latest/.")
    var paths: [String]

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one path, e.g. meta-data/instance-id") }
        // A CR, LF or other control character would break the request line: name the path, not the endpoint.
        if let bad = paths.first(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            throw ValidationError("invalid path \"\(bad.escapingControlCharacters)\": a metadata path has no control characters (e.g. meta-data/instance-id)")
        }
    }

    func run() async throws {
        let client = try common.loadSettings(imds: imds).makeIMDSClient()
        var members: [(String, JSONValue)] = []
        var missing: [String] = []
        for path in paths {
            do {
                guard let text = try await client.text(path) else {
                    missing.append(path)
                    continue
                }
                if json {
                    members.append((path, JSONDocument.embed(text)))
                } else {
                    print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                }
            } catch {
                printError("imdswatch: \(error.message)")
                throw ExitCode(2)
            }
        }
        if json {
            print(JSONValue.object(members).serialized())
        }
        if !missing.isEmpty {
            for path in missing {
                printError("imdswatch: \(path): not found (404)")
            }
            throw ExitCode.failure
        }
    }
}
