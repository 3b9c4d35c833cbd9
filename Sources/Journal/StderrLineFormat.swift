public import Logging

/// How ``StderrLogHandler`` turns a log event into one line: `[TIMESTAMP ]LEVEL message key=value …`.
///
/// Pure, so it can be tested without a terminal. A line never contains a newline: control characters in the
/// message and in values are escaped (`\n`, `\r`, `\t`, `\u{1b}`). Values are quoted when they are empty or hold
/// whitespace, quotes, backslashes, `=` or control characters. Keys are sorted.
public struct StderrLineFormat: Sendable, Hashable {
    /// Start each line with an RFC 3339 UTC timestamp with milliseconds.
    public var includesTimestamp: Bool
    /// Start each line with the syslog priority in angle brackets (`<4>`), which journald reads off stdout and
    /// stderr streams (`SyslogLevelPrefix=yes`, the default), so levels survive when systemd captures stderr.
    public var includesSyslogPrefix: Bool

    /// Creates a format.
    /// - Parameters:
    ///   - includesTimestamp: Start lines with a timestamp.
    ///   - includesSyslogPrefix: Start lines with `<PRIORITY>`.
    public init(includesTimestamp: Bool, includesSyslogPrefix: Bool) {
        self.includesTimestamp = includesTimestamp
        self.includesSyslogPrefix = includesSyslogPrefix
    }

    /// The format for this environment: when `$JOURNAL_STREAM` is set, stderr goes to journald, which stamps
    /// each line itself, so the timestamp is left out and the syslog prefix put in; otherwise a timestamp.
    /// - Parameter environment: The process environment.
    /// - Returns: The format to use.
    public static func forEnvironment(_ environment: [String: String]) -> StderrLineFormat {
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
    public func line(
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
            case _ where scalar.properties.generalCategory == .control
                || scalar == "\u{2028}" || scalar == "\u{2029}":
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Quotes a value when it would otherwise be ambiguous in `key=value` form.
    static func quotedIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.unicodeScalars.contains { scalar in
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
