import Durability
import Events
import Foundation
import Logging

/// A swift-log handler writing one readable line per entry to stderr: `[TIMESTAMP ]LEVEL message key=value …`.
///
/// See ``StderrLineFormat`` for the exact format. Each line is written with a single `write(2)`.
package struct StderrLogHandler: LevelSwitchableHandler, Sendable {
    /// The logger's label.
    package let label: String
    /// The line format.
    package var format: StderrLineFormat
    /// The level (``LevelSwitchableHandler/logLevel``), fixed or following the daemon's switch.
    package var level: HandlerLevel
    package var metadata: Logger.Metadata = [:]
    package var metadataProvider: Logger.MetadataProvider?

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - logLevel: The lowest level written.
    ///   - format: The line format; ``StderrLineFormat/forEnvironment(_:)`` picks the right one.
    ///   - metadataProvider: Contextual metadata added to every entry.
    package init(
        label: String,
        logLevel: Logger.Level = .info,
        format: StderrLineFormat,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.level = HandlerLevel(logLevel)
        self.format = format
        self.metadataProvider = metadataProvider
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        StandardError.writeLine(line(for: event, milliseconds: SystemWallClock().now()))
    }

    /// The line this handler writes for `event` at `milliseconds`, with handler, provider and per-call metadata
    /// merged (later ones win).
    /// - Parameters:
    ///   - event: The event.
    ///   - milliseconds: The time stamped on the line when the format includes one (since the Unix epoch), as
    ///     RFC 3339 UTC with milliseconds (`2026-11-24T11:58:01.532Z`, ``Events/Timestamp/rfc3339Milliseconds(_:)``).
    /// - Returns: One line without a trailing newline.
    package func line(for event: LogEvent, milliseconds: Int64) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let perCall = event.metadata { merged.merge(perCall) { _, new in new } }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        return format.line(
            level: event.level,
            message: event.message.description,
            metadata: merged,
            timestamp: format.includesTimestamp ? Timestamp.rfc3339Milliseconds(milliseconds) : ""
        )
    }
}

/// How ``StderrLogHandler`` turns a log event into one line: `[TIMESTAMP ]LEVEL message key=value …`.
///
/// Pure, so it can be tested without a terminal. A line never contains a newline: control characters in the
/// message and in values are escaped (`\n`, `\r`, `\t`, `\u{1b}`). Values are quoted when they are empty or hold
/// whitespace, quotes, backslashes, `=` or control characters. Keys are sorted.
package struct StderrLineFormat: Sendable, Hashable {
    /// Start each line with an RFC 3339 UTC timestamp with milliseconds.
    package var includesTimestamp: Bool
    /// Start each line with the syslog priority in angle brackets (`<4>`), which journald reads off stdout and
    /// stderr streams (`SyslogLevelPrefix=yes`, the default), so levels survive when systemd captures stderr.
    package var includesSyslogPrefix: Bool

    /// Creates a format.
    /// - Parameters:
    ///   - includesTimestamp: Start lines with a timestamp.
    ///   - includesSyslogPrefix: Start lines with `<PRIORITY>`.
    package init(includesTimestamp: Bool, includesSyslogPrefix: Bool) {
        self.includesTimestamp = includesTimestamp
        self.includesSyslogPrefix = includesSyslogPrefix
    }

    /// The format for this environment: when `$JOURNAL_STREAM` is set, stderr goes to journald, which stamps
    /// each line itself, so the timestamp is left out and the syslog prefix put in; otherwise a timestamp.
    /// - Parameter environment: The process environment.
    /// - Returns: The format to use.
    package static func forEnvironment(_ environment: [String: String]) -> StderrLineFormat {
        let underJournal = !(environment["JOURNAL_STREAM"] ?? "").isEmpty
        return StderrLineFormat(includesTimestamp: !underJournal, includesSyslogPrefix: underJournal)
    }

    /// Formats one event.
    /// - Parameters:
    ///   - level: The level, written upper-case (`WARNING`).
    ///   - message: The message.
    ///   - metadata: All metadata, already merged.
    ///   - timestamp: The timestamp text; used only when ``includesTimestamp`` is set.
    /// - Returns: One line without a trailing newline.
    package func line(
        level: Logger.Level,
        message: String,
        metadata: Logger.Metadata,
        timestamp: String
    ) -> String {
        var line = ""
        if includesSyslogPrefix { line += "<\(level.syslogPriority)>" }
        if includesTimestamp { line += timestamp + " " }
        line += level.rawValue.uppercased()
        line += " "
        line += Self.escaped(message)
        for key in metadata.keys.sorted() {
            guard let value = metadata[key] else { continue }
            line += " " + Self.escaped(key) + "=" + Self.quotedIfNeeded(JournalEntry.text(of: value))
        }
        return line
    }

    /// Escapes control characters so the text stays on one line.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _
            where scalar.properties.generalCategory == .control
                || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Quotes a value when it would otherwise be ambiguous in `key=value` form.
    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { scalar in
                scalar == "\"" || scalar == "\\" || scalar == "=" || scalar.properties.isWhitespace
                    || scalar.properties.generalCategory == .control
            }
        guard needsQuotes else { return value }
        var inner = ""
        for character in value.unicodeScalars {
            switch character {
            case "\"": inner += "\\\""
            case "\\": inner += "\\\\"
            default: inner += escaped(String(character))
            }
        }
        return "\"" + inner + "\""
    }
}

/// Writes whole lines to file descriptor 2 with one `write(2)` per line, so lines of concurrent writers never mix.
enum StandardError {
    /// Writes `line` plus a newline. Retries on EINTR and after partial writes; gives up silently on other
    /// errors, because there is nowhere left to report them.
    /// - Parameter line: One line, without its newline.
    static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = SystemCall.writeAll(2, bytes)
    }
}
