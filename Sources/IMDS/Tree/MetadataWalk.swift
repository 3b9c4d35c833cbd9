public import Events

/// Walks the metadata tree with one client (one token) and bounded concurrent requests.
///
/// Directories are recognised by the trailing `/` in their parent's listing (the real service's form; at the top,
/// `meta-data` and `dynamic`), and `public-keys/` entries `0=name` by their index directory. User data is never
/// read by a walk, and leaves under ``MetadataPath/credentialDirectories`` are listed by name only.
public struct MetadataWalk<ClockType: Clock<Duration>>: Sendable {
    /// A leaf of the tree: its path relative to `/latest/` and, when read, its value.
    public struct Leaf: Sendable, Equatable {
        /// The path relative to `/latest/`, e.g. `meta-data/placement/region`.
        public var path: String
        /// The value, or `nil` when the walk only listed the tree.
        public var value: JSONValue?
    }

    /// What stands in for a credential's value in a whole-tree document.
    public static var redacted: JSONValue { .string("(redacted)") }

    private let client: IMDSClient<ClockType>
    private let gate: RequestGate

    /// Creates a walk.
    /// - Parameters:
    ///   - client: The client; its token is shared by every request of the walk.
    ///   - concurrency: The most requests in flight at once.
    public init(client: IMDSClient<ClockType>, concurrency: Int = 16) {
        self.client = client
        self.gate = RequestGate(limit: concurrency)
    }

    /// Every leaf path of the tree, `user-data` included when present, in listing order; reads directories only.
    /// - Throws: ``IMDSError`` for any failed read (a 404 directory is empty, never an error).
    public func leafPaths() async throws(IMDSError) -> [String] {
        try await walk("", readValues: false).map(\.path)
    }

    /// The whole tree as one JSON document (no user data; credentials as ``redacted``).
    /// - Throws: ``IMDSError`` for any failed read; a leaf that vanished (404) between listing and reading is left out.
    public func document() async throws(IMDSError) -> JSONValue {
        let leaves = try await walk("", readValues: true)
        return Self.nest(leaves.compactMap { leaf in leaf.value.map { (leaf.path, $0) } })
    }

    /// The tree restricted to the leaves `select` keeps, in the shape of ``document()``.
    /// - Parameter select: Called once per leaf path (user data excluded) on the caller's task.
    /// - Throws: ``IMDSError`` for any failed read.
    public func document(selecting select: (String) -> Bool) async throws(IMDSError) -> JSONValue {
        let paths = try await walk("", readValues: false).map(\.path).filter { $0 != MetadataPath.userData && select($0) }
        let values = try await concurrently(paths) { (path: String) async throws(IMDSError) -> JSONValue? in try await self.leafValue(path) }
        return Self.nest(zip(paths, values).compactMap { path, value in value.map { (path, $0) } })
    }

    /// Reads several paths concurrently through the walk's gate.
    /// - Parameter paths: Paths relative to `/latest/`.
    /// - Returns: Each body in order, `nil` for a 404.
    /// - Throws: ``IMDSError`` for any other outcome.
    public func read(_ paths: [String]) async throws(IMDSError) -> [[UInt8]?] {
        try await concurrently(paths) { (path: String) async throws(IMDSError) -> [UInt8]? in try await self.read(path) }
    }

    /// Reads one path through the walk's gate.
    /// - Returns: The body, or `nil` for a 404.
    /// - Throws: ``IMDSError`` for any other outcome.
    public func read(_ path: String) async throws(IMDSError) -> [UInt8]? {
        let client = self.client
        return try await gate.run { () async throws(IMDSError) -> [UInt8]? in try await client.bytes(path) }
    }

    // MARK: Walking

    private func walk(_ directory: String, readValues: Bool) async throws(IMDSError) -> [Leaf] {
        guard let listing = try await read(directory) else { return [] }
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

    /// The entries of a directory listing as full paths.
    static func entries(of listing: String, in directory: String) -> [Entry] {
        listing.split(separator: "\n").compactMap { line -> Entry? in
            let name = line.hasSuffix("\r") ? line.dropLast() : line[...]
            guard !name.isEmpty else { return nil }
            if name.hasSuffix("/") { return Entry(directory + name, true) }
            if directory.isEmpty, name == MetadataPath.metaData || name == MetadataPath.dynamic {
                return Entry(name + "/", true)
            }
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
