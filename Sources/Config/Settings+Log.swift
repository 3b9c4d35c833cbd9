import Journal
import Logging

extension Settings {
    /// The `[log]` table, decoded straight into the types of the modules that use it: the Journal module's
    /// ``Journal/LogTarget`` (`--log-target` too) and swift-log's `Logger.Level` (same names, same order).
    package struct LogSettings: Sendable, Equatable {
        /// Where logs go; default `auto`.
        package var target: LogTarget
        /// The least severe level logged; default `info`.
        package var level: Logger.Level

        /// Creates log settings.
        /// - Parameters:
        ///   - target: Where logs go.
        ///   - level: The least severe level logged.
        package init(target: LogTarget = .auto, level: Logger.Level = .info) {
            self.target = target
            self.level = level
        }
    }
}
