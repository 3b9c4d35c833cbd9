public import Logging
import Foundation

/// A swift-log handler writing one readable line per entry to stderr: `[TIMESTAMP ]LEVEL message key=value …`.
///
/// See ``StderrLineFormat`` for the exact format. Each line is written with a single `write(2)`.
public struct StderrLogHandler: LogHandler, Sendable {
    /// The logger's label.
    public let label: String
    /// The line format.
    public var format: StderrLineFormat
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - logLevel: The lowest level written.
    ///   - format: The line format; ``StderrLineFormat/forEnvironment(_:)`` picks the right one.
    ///   - metadataProvider: Contextual metadata added to every entry.
    public init(
        label: String,
        logLevel: Logger.Level = .info,
        format: StderrLineFormat,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = logLevel
        self.format = format
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        StandardError.writeLine(line(for: event, date: Date()))
    }

    /// The line this handler writes for `event` at `date`, with handler, provider and per-call metadata merged
    /// (later ones win).
    /// - Parameters:
    ///   - event: The event.
    ///   - date: The time stamped on the line when the format includes one.
    /// - Returns: One line without a trailing newline.
    public func line(for event: LogEvent, date: Date) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let perCall = event.metadata { merged.merge(perCall) { _, new in new } }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        return format.line(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            timestamp: format.includesTimestamp ? LogTimestamp.text(for: date) : ""
        )
    }
}
