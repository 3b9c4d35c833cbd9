public import Logging
import Foundation
import Synchronization

/// A swift-log handler writing structured journald entries with `sd_journal_sendv`.
///
/// Every entry has `MESSAGE`, `PRIORITY` (see ``Logging/Logger/Level/syslogPriority``), `SYSLOG_IDENTIFIER=imdswatch`,
/// `CODE_FILE`, `CODE_LINE`, `CODE_FUNC`, `LOGGER_LABEL`, and one field per metadata key (handler, provider and
/// per-call metadata merged, later ones winning), named by ``JournalField/sanitizedName(_:)``: the key
/// `imdswatch_event_type` becomes `IMDSWATCH_EVENT_TYPE`.
///
/// When journald cannot be reached, the entry is written to stderr instead, and the first time this happens a
/// warning says so; no line is lost. Every later entry still tries journald first.
public struct JournalLogHandler: LogHandler, Sendable {
    /// The logger's label.
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let fallback: StderrFallback
    private let send: @Sendable ([JournalField]) throws(JournalError) -> Void

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - logLevel: The lowest level written.
    ///   - metadataProvider: Contextual metadata added to every entry.
    public init(label: String, logLevel: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
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
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.fallback = fallback
        self.send = send
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
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
    public func entry(for event: LogEvent) -> JournalEntry {
        JournalEntry(event: event, metadata: mergedMetadata(), label: label)
    }

    /// Whether this handler has had to fall back to stderr.
    public var hasFallenBack: Bool { fallback.hasWarned }

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
        let now = LogTimestamp.text(for: Date())
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
