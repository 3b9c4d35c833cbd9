extension Settings {
    /// Where logs go.
    public enum LogTarget: String, CaseIterable, Sendable {
        /// The journal when started by systemd (`$JOURNAL_STREAM` or `$INVOCATION_ID` set), else stderr.
        case auto
        /// The systemd journal.
        case journal
        /// Standard error.
        case stderr
    }

    /// The least severe level logged; the names and order of swift-log's `Logger.Level`.
    public enum LogLevel: String, CaseIterable, Sendable, Comparable {
        /// Everything, including per-request detail.
        case trace
        /// Diagnostics for debugging.
        case debug
        /// Normal operation (the default).
        case info
        /// Conditions worth noticing.
        case notice
        /// Problems that do not stop the daemon.
        case warning
        /// Failures, such as a failing hook.
        case error
        /// Failures that stop the daemon.
        case critical

        /// Orders levels from `trace` (least severe) to `critical`.
        public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
            let order = LogLevel.allCases
            return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
        }
    }

    /// The `[log]` table.
    public struct LogSettings: Sendable, Equatable {
        /// Where logs go; default ``LogTarget/auto``.
        public var target: LogTarget
        /// The least severe level logged; default ``LogLevel/info``.
        public var level: LogLevel

        /// Creates log settings.
        /// - Parameters:
        ///   - target: Where logs go.
        ///   - level: The least severe level logged.
        public init(target: LogTarget = .auto, level: LogLevel = .info) {
            self.target = target
            self.level = level
        }
    }
}
