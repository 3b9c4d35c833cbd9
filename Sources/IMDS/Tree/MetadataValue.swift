import Events

/// One value read from IMDS: the bytes as served and the JSON form `--json` and whole-tree documents use.
package struct MetadataValue: Sendable, Equatable {
    /// The bytes exactly as served (or, for a composed value such as the tags object, its JSON text).
    package var bytes: [UInt8]
    /// The value in a JSON document: a JSON object or array embedded as JSON, anything else as a string.
    package var json: JSONValue

    /// Creates a value from its parts.
    /// - Parameters:
    ///   - bytes: What `get` prints.
    ///   - json: What `--json` prints.
    package init(bytes: [UInt8], json: JSONValue) {
        self.bytes = bytes
        self.json = json
    }

    /// The value served at `path`: JSON documents are embedded, tag values always stay strings (a tag value that
    /// happens to look like JSON is still the user's text).
    /// - Parameters:
    ///   - path: The path relative to `/latest/`.
    ///   - bytes: The body as served.
    package init(path: String, bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        self.bytes = bytes
        self.json = path.hasPrefix(MetadataSource.tags.path + "/") ? .string(text) : JSONDocument.embed(text)
    }

    /// Whether the bytes are valid UTF-8 (a JSON string can carry them exactly).
    package var isText: Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }
}
