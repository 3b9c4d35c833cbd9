public import Logging

/// The fields of one journal entry, built from a log event: pure, so it can be tested without journald.
public struct JournalEntry: Sendable, Hashable {
    /// The fields in the order they are sent: the handler's own fields first, then metadata sorted by key.
    public var fields: [JournalField]

    /// `SYSLOG_IDENTIFIER` of every entry imdswatch writes.
    public static let syslogIdentifier = "imdswatch"

    /// Field names the handler sets itself; metadata keys that sanitize to one of these get a `META_` prefix
    /// so they never duplicate or shadow them.
    public static let reservedNames: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERROR",
        "MESSAGE_ID", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "LOGGER_LABEL",
    ]

    /// Builds the entry for one log event.
    /// - Parameters:
    ///   - event: The event; its metadata wins over `metadata` on equal keys.
    ///   - metadata: Handler and provider metadata, already merged.
    ///   - label: The logger's label, written as `LOGGER_LABEL`.
    public init(event: LogEvent, metadata: Logger.Metadata, label: String) {
        var fields: [JournalField] = [
            JournalField(name: "MESSAGE", value: event.message.description),
            JournalField(name: "PRIORITY", value: String(event.level.syslogPriority)),
            JournalField(name: "SYSLOG_IDENTIFIER", value: Self.syslogIdentifier),
            JournalField(name: "CODE_FILE", value: event.file),
            JournalField(name: "CODE_LINE", value: String(event.line)),
            JournalField(name: "CODE_FUNC", value: event.function),
            JournalField(name: "LOGGER_LABEL", value: label),
        ]
        if let error = event.error {
            fields.append(JournalField(name: "ERROR", value: String(describing: error)))
        }
        let merged = metadata.merging(event.metadata ?? [:]) { _, perCall in perCall }
        for key in merged.keys.sorted() {
            guard let value = merged[key] else { continue }
            var name = JournalField.sanitizedName(key)
            if Self.reservedNames.contains(name) { name = JournalField.sanitizedName("META_" + name) }
            fields.append(JournalField(name: name, value: Self.text(of: value)))
        }
        self.fields = fields
    }

    /// The text of a metadata value: strings as they are, everything else as swift-log describes it.
    static func text(of value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }
}
