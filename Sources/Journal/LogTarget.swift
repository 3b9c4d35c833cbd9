/// Where log entries go, as chosen with `--log-target auto|journal|stderr`.
package enum LogTarget: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The journal when started by systemd (`$JOURNAL_STREAM` or `$INVOCATION_ID` set), else stderr.
    case auto
    /// Structured entries through journald (``JournalLogHandler``).
    case journal
    /// One line per entry on stderr (``StderrLogHandler``).
    case stderr

    package var description: String { rawValue }

    /// The destination this target means in `environment`.
    /// - Parameter environment: The process environment.
    /// - Returns: `.journal` or `.stderr`; `auto` picks `.journal` when `$JOURNAL_STREAM` or `$INVOCATION_ID` is
    ///   set and not empty.
    package func resolve(environment: [String: String]) -> LogDestination {
        switch self {
        case .journal: .journal
        case .stderr: .stderr
        case .auto:
            ["JOURNAL_STREAM", "INVOCATION_ID"].contains { !(environment[$0] ?? "").isEmpty } ? .journal : .stderr
        }
    }
}

/// A resolved ``LogTarget``: where entries actually go.
package enum LogDestination: String, Sendable, Hashable, CustomStringConvertible {
    /// journald.
    case journal
    /// stderr.
    case stderr

    package var description: String { rawValue }
}
