import Foundation
import Logging

/// Chooses the log backend once, in `main`.
package enum LoggingBootstrap {
    /// Resolves `target` and calls `LoggingSystem.bootstrap` with the matching handler. Call it once per process,
    /// before the first `Logger` is created (swift-log traps on a second bootstrap).
    /// - Parameters:
    ///   - target: `--log-target`.
    ///   - level: The lowest level written.
    ///   - environment: The process environment, read for `$JOURNAL_STREAM` and `$INVOCATION_ID`.
    ///   - metadataProvider: Contextual metadata added to every entry, if any.
    ///   - levelSwitch: A shared level every handler follows instead of `level` (the daemon's, changed by a reload).
    /// - Returns: Where entries go.
    @discardableResult
    package static func bootstrap(
        target: LogTarget,
        level: Logger.Level,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        metadataProvider: Logger.MetadataProvider? = nil,
        levelSwitch: LogLevelSwitch? = nil
    ) -> LogDestination {
        let destination = target.resolve(environment: environment)
        let factory = handlerFactory(
            destination: destination, level: level, environment: environment, levelSwitch: levelSwitch)
        LoggingSystem.bootstrap({ label, provider in factory(label, provider) }, metadataProvider: metadataProvider)
        return destination
    }

    /// A handler factory for `destination`, for tests and for callers that bootstrap themselves.
    ///
    /// Journal handlers made by one factory share one stderr fallback, so the "journald unavailable" warning
    /// appears once per process.
    /// - Parameters:
    ///   - destination: Where entries go.
    ///   - level: The lowest level written.
    ///   - environment: The process environment (for the stderr format).
    ///   - levelSwitch: A shared level every handler follows instead of `level`, if any.
    /// - Returns: A factory taking a label and an optional metadata provider.
    package static func handlerFactory(
        destination: LogDestination,
        level: Logger.Level,
        environment: [String: String],
        levelSwitch: LogLevelSwitch? = nil
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        let format = StderrLineFormat.forEnvironment(environment)
        switch destination {
        case .stderr:
            return { label, provider in
                var handler = StderrLogHandler(
                    label: label, logLevel: level, format: format, metadataProvider: provider)
                handler.levelSwitch = levelSwitch
                return handler
            }
        case .journal:
            let fallback = StderrFallback(format: format)
            return { label, provider in
                var handler = JournalLogHandler(
                    label: label, logLevel: level, metadataProvider: provider, fallback: fallback)
                handler.levelSwitch = levelSwitch
                return handler
            }
        }
    }
}
