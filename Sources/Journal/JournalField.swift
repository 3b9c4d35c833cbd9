/// One `NAME=value` field of a journal entry.
///
/// Values are arbitrary text, including newlines: they are sent binary-safe through `sd_journal_sendv`.
public struct JournalField: Sendable, Hashable {
    /// A valid journal field name (`[A-Z0-9_]`, starting with a letter, at most 64 characters).
    public let name: String
    /// The value.
    public let value: String

    /// Creates a field. `name` is sanitized with ``JournalField/sanitizedName(_:)``.
    /// - Parameters:
    ///   - name: Any text; it becomes a valid journal field name.
    ///   - value: The value.
    public init(name: String, value: String) {
        self.name = Self.sanitizedName(name)
        self.value = value
    }

    /// The longest field name journald accepts.
    public static let maximumNameLength = 64

    /// Turns any text into a valid journal field name.
    ///
    /// Letters are upper-cased, every character outside `[A-Z0-9_]` becomes `_`, leading underscores are dropped
    /// (they mark trusted fields only journald may set), a leading digit gets an `F` in front, and the result is
    /// cut to 64 characters. An empty result becomes `FIELD`. `imdswatch_event_type` becomes `IMDSWATCH_EVENT_TYPE`,
    /// `hook.name` becomes `HOOK_NAME`, `_pid` becomes `PID`, `2xx` becomes `F2XX`.
    /// - Parameter raw: Any text, typically a logger metadata key.
    /// - Returns: A valid journal field name.
    public static func sanitizedName(_ raw: String) -> String {
        var scalars: [Unicode.Scalar] = []
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "A"..."Z", "0"..."9", "_":
                scalars.append(scalar)
            case "a"..."z":
                scalars.append(Unicode.Scalar(scalar.value - 0x20) ?? "_")
            default:
                scalars.append("_")
            }
        }
        while scalars.first == "_" { scalars.removeFirst() }
        if let first = scalars.first, ("0"..."9").contains(first) { scalars.insert("F", at: 0) }
        if scalars.isEmpty { return "FIELD" }
        return String(String.UnicodeScalarView(scalars.prefix(maximumNameLength)))
    }
}
