import Events

/// Walks the metadata tree with one client (one token) and bounded concurrent requests.
///
/// Directories are recognised by the trailing `/` in their parent's listing (the real service's form), by name where
/// the listing does not say (``knownDirectories``: `meta-data`, `dynamic`, and the tags, whose `meta-data/tags/`
/// lists `instance` without a `/` on the real service though `meta-data/tags/instance` is the key list), and
/// `public-keys/` entries `0=name` by their index directory. User data is never read by a walk, and leaves under
/// ``MetadataPath/credentialDirectories`` are listed by name only. A root listing that is absent or leads to no
/// leaf at all is an error, never an empty tree.
package struct MetadataWalk<ClockType: Clock<Duration>>: Sendable {
    /// A leaf of the tree: its path relative to `/latest/` and, when read, its value.
    package struct Leaf: Sendable, Equatable {
        /// The path relative to `/latest/`, e.g. `meta-data/placement/region`.
        package var path: String
        /// The value, or `nil` when the walk only listed the tree.
        package var value: JSONValue?
    }

    /// What stands in for a credential's value in a whole-tree document.
    package static var redacted: JSONValue { .string("(redacted)") }

    /// Requests in flight at once by default: 4, as many as the daemon's poll loops have when their sources fall due
    /// together. AWS limits the simultaneous connections from an instance (the number is not published), and each
    /// request in flight needs a connection of its own; finished ones are kept alive and reused.
    package static var defaultConcurrency: Int { 4 }

    private let client: IMDSClient<ClockType>
    private let gate: RequestGate

    /// Creates a walk.
    /// - Parameters:
    ///   - client: The client; its token is shared by every request of the walk.
    ///   - concurrency: The most requests in flight at once (so the most connections open at once).
    package init(client: IMDSClient<ClockType>, concurrency: Int = MetadataWalk.defaultConcurrency) {
        self.client = client
        self.gate = RequestGate(limit: concurrency)
    }

    /// Every leaf path of the tree, `user-data` included when present, in listing order; reads directories only.
    /// - Throws: ``IMDSError`` for any failed read (a 404 directory below the root is empty, never an error), and
    ///   when the root listing is absent or the tree has no leaf.
    package func leafPaths() async throws(IMDSError) -> [String] {
        try await tree(readValues: false).map(\.path)
    }

    /// The whole tree as one JSON document (no user data; credentials as ``redacted``).
    /// - Throws: ``IMDSError`` for any failed read, and when the root listing is absent or the tree has no leaf; a
    ///   leaf that vanished (404) between listing and reading is left out.
    package func document() async throws(IMDSError) -> JSONValue {
        let leaves = try await tree(readValues: true)
        return Self.nest(leaves.compactMap { leaf in leaf.value.map { (leaf.path, $0) } })
    }

    /// The tree restricted to the leaves `select` keeps, in the shape of ``document()`` (an empty object when none
    /// matches).
    /// - Parameter select: Called once per leaf path (user data excluded) on the caller's task.
    /// - Throws: ``IMDSError`` for any failed read, and when the root listing is absent or the tree has no leaf.
    package func document(selecting select: (String) -> Bool) async throws(IMDSError) -> JSONValue {
        let paths = try await tree(readValues: false).map(\.path).filter { $0 != MetadataPath.userData && select($0) }
        let values = try await concurrently(paths) { (path: String) async throws(IMDSError) -> JSONValue? in
            try await self.leafValue(path)
        }
        return Self.nest(zip(paths, values).compactMap { path, value in value.map { (path, $0) } })
    }

    /// Reads several paths concurrently through the walk's gate.
    /// - Parameter paths: Paths relative to `/latest/`.
    /// - Returns: Each body in order, `nil` for a 404.
    /// - Throws: ``IMDSError`` for any other outcome.
    package func read(_ paths: [String]) async throws(IMDSError) -> [[UInt8]?] {
        try await concurrently(paths) { (path: String) async throws(IMDSError) -> [UInt8]? in try await self.read(path)
        }
    }

    /// Reads one path through the walk's gate.
    /// - Returns: The body, or `nil` for a 404.
    /// - Throws: ``IMDSError`` for any other outcome.
    package func read(_ path: String) async throws(IMDSError) -> [UInt8]? {
        let client = self.client
        return try await gate.run { () async throws(IMDSError) -> [UInt8]? in try await client.bytes(path) }
    }

    // MARK: Walking

    /// The leaves of the whole tree, from the root listing (`/latest/`).
    private func tree(readValues: Bool) async throws(IMDSError) -> [Leaf] {
        let endpoint = client.endpoint
        guard let listing = try await read("") else {
            throw IMDSError(
                code: .unexpectedStatus, path: "", endpoint: endpoint.baseURL, status: 404,
                message:
                    "IMDS at \(endpoint) answered 404 for /latest/: there is no metadata tree to read (is it an instance metadata service?)"
            )
        }
        let leaves = try await walk("", listing: listing, readValues: readValues)
        guard !leaves.isEmpty else {
            throw IMDSError(
                code: .malformedResponse, path: "", endpoint: endpoint.baseURL, status: 200,
                message: "IMDS at \(endpoint) served an empty metadata tree: /latest/ lists nothing that can be read")
        }
        return leaves
    }

    private func walk(_ directory: String, readValues: Bool) async throws(IMDSError) -> [Leaf] {
        guard let listing = try await read(Self.listingPath(of: directory)) else { return [] }
        return try await walk(directory, listing: listing, readValues: readValues)
    }

    private func walk(_ directory: String, listing: [UInt8], readValues: Bool) async throws(IMDSError) -> [Leaf] {
        let entries = Self.entries(of: String(decoding: listing, as: UTF8.self), in: directory)
        let groups = try await concurrently(entries) { (entry: Entry) async throws(IMDSError) -> [Leaf] in
            if entry.isDirectory { return try await self.walk(entry.path, readValues: readValues) }
            if !readValues { return [Leaf(path: entry.path, value: nil)] }
            if entry.path == MetadataPath.userData { return [] }
            return try await self.leafValue(entry.path).map { [Leaf(path: entry.path, value: $0)] } ?? []
        }
        return groups.flatMap { $0 }
    }

    private func leafValue(_ path: String) async throws(IMDSError) -> JSONValue? {
        if MetadataPath.holdsCredentials(path) { return Self.redacted }
        return try await read(path).map { MetadataValue(path: path, bytes: $0).json }
    }

    /// One entry of a directory listing, as a full path.
    struct Entry: Sendable {
        var path: String
        var isDirectory: Bool

        init(_ path: some StringProtocol, _ isDirectory: Bool) {
            self.path = String(path)
            self.isDirectory = isDirectory
        }
    }

    /// The directory holding the tag keys, as the walk names it (the key list is read at ``MetadataSource/path``).
    static var tagKeysDirectory: String { MetadataSource.tags.path + "/" }

    /// Directories the walk knows, whether or not their parent's listing ends them with `/`: the top-level
    /// categories, and the tags (`meta-data/tags/` lists `instance` without a `/` on the real service, and a mock
    /// may write `tags` without one too), so that tags are always an object of key to value.
    static var knownDirectories: [String] {
        [MetadataPath.metaData, MetadataPath.dynamic, MetadataPath.underMetaData("tags"), MetadataSource.tags.path]
    }

    /// Where a directory's listing is read: the tag keys at `meta-data/tags/instance`, the path the service
    /// documents for them; every other directory at its own path.
    static func listingPath(of directory: String) -> String {
        directory == tagKeysDirectory ? MetadataSource.tags.path : directory
    }

    /// The entries of a directory listing as full paths.
    static func entries(of listing: String, in directory: String) -> [Entry] {
        listing.split(separator: "\n").compactMap { line -> Entry? in
            let name = line.hasSuffix("\r") ? line.dropLast() : line[...]
            guard !name.isEmpty else { return nil }
            if name.hasSuffix("/") { return Entry(directory + name, true) }
            if knownDirectories.contains(directory + name) { return Entry(directory + name + "/", true) }
            if directory == MetadataPath.publicKeys, let index = name.split(separator: "=", maxSplits: 1).first {
                return Entry(directory + index + "/", true)
            }
            return Entry(directory + name, false)
        }
    }

    /// Leaves nested into objects by path segment, in the order first seen.
    static func nest(_ leaves: [(String, JSONValue)]) -> JSONValue {
        var order: [String] = []
        var values: [String: JSONValue] = [:]
        var children: [String: [(String, JSONValue)]] = [:]
        for (path, value) in leaves {
            let parts = path.split(separator: "/", maxSplits: 1)
            guard let head = parts.first.map(String.init) else { continue }
            if values[head] == nil, children[head] == nil { order.append(head) }
            if parts.count == 2 {
                children[head, default: []].append((String(parts[1]), value))
            } else {
                values[head] = value
            }
        }
        return .object(order.map { key in (key, values[key] ?? nest(children[key] ?? [])) })
    }

    // MARK: Concurrency

    private func concurrently<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ body: @escaping @Sendable (Input) async throws(IMDSError) -> Output
    ) async throws(IMDSError) -> [Output] {
        do {
            return try await withThrowingTaskGroup(of: (Int, Output).self) { group in
                for (index, input) in inputs.enumerated() {
                    group.addTask { (index, try await body(input)) }
                }
                var results: [Output?] = Array(repeating: nil, count: inputs.count)
                for try await (index, output) in group { results[index] = output }
                return results.compactMap { $0 }
            }
        } catch let error as IMDSError {
            throw error
        } catch {
            throw IMDSError(code: .transport, path: "", endpoint: client.endpoint.baseURL, message: "\(error)")
        }
    }
}
