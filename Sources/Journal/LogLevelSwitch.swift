import Logging
import Synchronization

/// The daemon's log level, shared by every handler the bootstrap makes, so that a reload (SIGHUP) changes it for
/// every `Logger` at once, copies included.
///
/// A handler given a switch reads its level from it on each entry (one relaxed atomic load); setting a handler's
/// `logLevel` by hand detaches that handler from the switch.
package final class LogLevelSwitch: Sendable {
    private let storage: Atomic<UInt8>

    /// Creates a switch at `level`.
    /// - Parameter level: The lowest level written.
    package init(_ level: Logger.Level) {
        storage = Atomic(Self.code(level))
    }

    /// The lowest level written; setting it takes effect for the next entry of every handler that reads it.
    package var level: Logger.Level {
        get {
            let code = storage.load(ordering: .relaxed)
            return Logger.Level.allCases.first { Self.code($0) == code } ?? .info
        }
        set { storage.store(Self.code(newValue), ordering: .relaxed) }
    }

    private static func code(_ level: Logger.Level) -> UInt8 {
        UInt8(Logger.Level.allCases.firstIndex(of: level) ?? 0)
    }
}

/// A handler's level: fixed, or following a shared ``LogLevelSwitch``.
package struct HandlerLevel: Sendable {
    /// The level when no switch is set.
    package var fixed: Logger.Level
    /// The switch the level follows, if any.
    package var levelSwitch: LogLevelSwitch?

    /// A fixed level.
    /// - Parameter fixed: The lowest level written.
    package init(_ fixed: Logger.Level) {
        self.fixed = fixed
    }

    /// The level now: the switch's, else the fixed one.
    package var current: Logger.Level { levelSwitch?.level ?? fixed }
}

/// A handler whose `logLevel` is a ``HandlerLevel``: the bootstrap gives it the daemon's ``LogLevelSwitch``.
package protocol LevelSwitchableHandler: LogHandler {
    /// The stored level.
    var level: HandlerLevel { get set }
}

extension LevelSwitchableHandler {
    /// The lowest level written: the ``levelSwitch``'s when there is one, so that a reload changes it live.
    /// Setting it detaches the handler from the switch.
    package var logLevel: Logger.Level {
        get { level.current }
        set {
            level.fixed = newValue
            level.levelSwitch = nil
        }
    }

    /// The shared level ``logLevel`` follows, if any.
    package var levelSwitch: LogLevelSwitch? {
        get { level.levelSwitch }
        set { level.levelSwitch = newValue }
    }
}
