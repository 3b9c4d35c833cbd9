import CSystemd
import Durability
import Events
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A swift-log handler writing structured journald entries with `sd_journal_sendv`.
///
/// Every entry has `MESSAGE`, `PRIORITY` (see ``Logging/Logger/Level/syslogPriority``), `SYSLOG_IDENTIFIER=imdswatch`,
/// `CODE_FILE`, `CODE_LINE`, `CODE_FUNC`, `LOGGER_LABEL`, and one field per metadata key (handler, provider and
/// per-call metadata merged, later ones winning), named by ``JournalField/sanitizedName(_:)``: the key
/// `imdswatch_event_type` becomes `IMDSWATCH_EVENT_TYPE`.
///
/// When journald cannot be reached, the entry is written to stderr instead, and the first time this happens a
/// warning says so; no line is lost. Every later entry still tries journald first.
package struct JournalLogHandler: LevelSwitchableHandler, Sendable {
    /// The logger's label.
    package let label: String
    /// The level (``LevelSwitchableHandler/logLevel``), fixed or following the daemon's switch.
    package var level: HandlerLevel
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    private let fallback: StderrFallback
    private let send: @Sendable ([JournalField]) throws(JournalError) -> Void

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - logLevel: The lowest level written.
    ///   - metadataProvider: Contextual metadata added to every entry.
    package init(label: String, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(
            label: label,
            logLevel: logLevel,
            metadataProvider: metadataProvider,
            fallback: StderrFallback(format: StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false))
        )
    }

    /// Creates a handler sharing `fallback` with other handlers, so the process warns once, not once per logger.
    init(
        label: String,
        logLevel: Logger.Level,
        metadataProvider: Logger.MetadataProvider?,
        fallback: StderrFallback
    ) {
        self.init(label: label, logLevel: logLevel, metadataProvider: metadataProvider, fallback: fallback) {
            (fields: [JournalField]) throws(JournalError) in
            try JournalWriter.send(fields)
        }
    }

    /// Creates a handler with another sender; for tests of the fallback.
    init(
        label: String,
        logLevel: Logger.Level,
        metadataProvider: Logger.MetadataProvider?,
        fallback: StderrFallback,
        send: @escaping @Sendable ([JournalField]) throws(JournalError) -> Void
    ) {
        self.label = label
        self.level = HandlerLevel(logLevel)
        self.metadataProvider = metadataProvider
        self.fallback = fallback
        self.send = send
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = mergedMetadata()
        do {
            try send(JournalEntry(event: event, metadata: merged, label: label).fields)
        } catch {
            fallback.write(event: event, metadata: merged, failure: error)
        }
    }

    /// The entry this handler would send for `event`.
    /// - Parameter event: The event.
    /// - Returns: Its journal entry.
    package func entry(for event: LogEvent) -> JournalEntry {
        JournalEntry(event: event, metadata: mergedMetadata(), label: label)
    }

    /// Whether this handler has had to fall back to stderr.
    package var hasFallenBack: Bool { fallback.hasWarned }

    private func mergedMetadata() -> Logger.Metadata {
        guard let provided = metadataProvider?.get(), !provided.isEmpty else { return metadata }
        return metadata.merging(provided) { _, new in new }
    }
}

/// The stderr fallback shared by all copies of one ``JournalLogHandler``: warns once, then writes each entry
/// journald did not take as a stderr line.
final class StderrFallback: Sendable {
    private let warned = Mutex(false)
    private let format: StderrLineFormat

    init(format: StderrLineFormat) {
        self.format = format
    }

    var hasWarned: Bool { warned.withLock { $0 } }

    func write(event: LogEvent, metadata: Logger.Metadata, failure: JournalError) {
        let isFirst = warned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        let now = Timestamp.rfc3339Milliseconds(SystemWallClock().now())
        if isFirst {
            StandardError.writeLine(
                format.line(
                    level: .warning,
                    message: "journald unavailable, logging to stderr instead: \(failure)",
                    metadata: [:],
                    timestamp: now
                )
            )
        }
        var merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        StandardError.writeLine(
            format.line(level: event.level, message: event.message.description, metadata: merged, timestamp: now)
        )
    }
}

/// The fields of one journal entry, built from a log event: pure, so it can be tested without journald.
package struct JournalEntry: Sendable, Hashable {
    /// The fields in the order they are sent: the handler's own fields first, then metadata sorted by key.
    package var fields: [JournalField]

    /// `SYSLOG_IDENTIFIER` of every entry imdswatch writes.
    package static let syslogIdentifier = "imdswatch"

    /// Field names the handler sets itself; metadata keys that sanitize to one of these get a `META_` prefix
    /// so they never duplicate or shadow them.
    package static let reservedNames: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERROR",
        "MESSAGE_ID", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "LOGGER_LABEL",
    ]

    /// Builds the entry for one log event.
    /// - Parameters:
    ///   - event: The event; its metadata wins over `metadata` on equal keys.
    ///   - metadata: Handler and provider metadata, already merged.
    ///   - label: The logger's label, written as `LOGGER_LABEL`.
    package init(event: LogEvent, metadata: Logger.Metadata, label: String) {
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

/// One `NAME=value` field of a journal entry.
///
/// Values are arbitrary text, including newlines: they are sent binary-safe through `sd_journal_sendv`.
package struct JournalField: Sendable, Hashable {
    /// A valid journal field name (`[A-Z0-9_]`, starting with a letter, at most 64 characters).
    package let name: String
    /// The value.
    package let value: String

    /// Creates a field. `name` is sanitized with ``JournalField/sanitizedName(_:)``.
    /// - Parameters:
    ///   - name: Any text; it becomes a valid journal field name.
    ///   - value: The value.
    package init(name: String, value: String) {
        self.name = Self.sanitizedName(name)
        self.value = value
    }

    /// The longest field name journald accepts.
    package static let maximumNameLength = 64

    /// Turns any text into a valid journal field name.
    ///
    /// Letters are upper-cased, every character outside `[A-Z0-9_]` becomes `_`, leading underscores are dropped
    /// (they mark trusted fields only journald may set), a leading digit gets an `F` in front, and the result is
    /// cut to 64 characters. An empty result becomes `FIELD`. `imdswatch_event_type` becomes `IMDSWATCH_EVENT_TYPE`,
    /// `hook.name` becomes `HOOK_NAME`, `_pid` becomes `PID`, `2xx` becomes `F2XX`.
    /// - Parameter raw: Any text, typically a logger metadata key.
    /// - Returns: A valid journal field name.
    package static func sanitizedName(_ raw: String) -> String {
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

/// Writes entries to journald with `sd_journal_sendv`: the only place that hands pointers to libsystemd's journal.
enum JournalWriter {
    /// Sends one entry.
    ///
    /// All fields are laid out in one byte buffer (`NAME=value`, binary-safe, so values may hold newlines) and an
    /// `iovec` per field points into it while `sd_journal_sendv` runs.
    /// - Parameter fields: The entry's fields.
    /// - Throws: ``JournalError`` with code `.journalSend` and the errno libsystemd returned.
    static func send(_ fields: [JournalField]) throws(JournalError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 1 })
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            spans.append((start, buffer.count - start))
        }
        let result: Int32 = buffer.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = spans.map { iovec(iov_base: base + $0.offset, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { vectorBuffer -> Int32 in
                sd_journal_sendv(vectorBuffer.baseAddress, Int32(vectorBuffer.count))
            }
        }
        if result < 0 {
            throw JournalError(code: .journalSend, errno: -result, context: "/run/systemd/journal/socket")
        }
    }
}

extension Logger.Level {
    /// The syslog priority journald stores in `PRIORITY`: trace and debug 7, info 6, notice 5, warning 4,
    /// error 3, critical 2.
    package var syslogPriority: Int {
        switch self {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
