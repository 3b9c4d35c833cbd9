import Telemetry

/// How one hook run ended. A non-zero exit is a result, not an error.
package struct HookResult: Sendable, Equatable {
    /// How the process ended.
    package enum Termination: Sendable, Equatable, CustomStringConvertible {
        /// It exited with this status.
        case exited(Int32)
        /// It was killed by this signal.
        case signaled(Int32)
        /// It could not be started (the message says why).
        case failedToStart(String)

        package var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signaled(let signal): "killed by \(HookFileSystem.signalName(signal))"
            case .failedToStart(let reason): "could not start: \(reason)"
            }
        }
    }

    /// The hook's file name.
    package var hook: String
    /// How it ended.
    package var termination: Termination
    /// How long it ran.
    package var duration: Duration
    /// Whether it ran past its timeout and was sent SIGTERM (then SIGKILL).
    package var timedOut: Bool
    /// Whether it was ended because the run was cancelled (daemon shutdown), not by its timeout.
    package var stoppedAtShutdown: Bool

    /// Creates a result.
    package init(
        hook: String, termination: Termination, duration: Duration, timedOut: Bool, stoppedAtShutdown: Bool = false
    ) {
        self.hook = hook
        self.termination = termination
        self.duration = duration
        self.timedOut = timedOut
        self.stoppedAtShutdown = stoppedAtShutdown
    }

    /// It exited with status 0 within its timeout.
    package var succeeded: Bool { termination == .exited(0) && !timedOut && !stoppedAtShutdown }

    /// The exit status as a shell reports it: the status, 128 + the signal number when killed, 127 when it could
    /// not start. The value of `IMDSWATCH_HOOK_EXIT_STATUS`.
    package var exitStatus: Int32 {
        switch termination {
        case .exited(let status): status
        case .signaled(let signal): 128 + signal
        case .failedToStart: 127
        }
    }

    /// `exit status 0 in 0.12 s`, `killed by SIGKILL after timing out in 95.0 s`.
    package var summary: String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let rounded = (seconds * 100).rounded() / 100
        let cause = timedOut ? " after timing out" : stoppedAtShutdown ? " at shutdown" : ""
        return "\(termination)\(cause) in \(rounded) s"
    }
}

extension HookResult {
    /// The result label of `imdswatch_hook_runs_total`: `timeout` when it ran past its timeout, `ok` when it
    /// succeeded, otherwise `failed` (a non-zero exit, a signal, not started, stopped at shutdown).
    package var telemetryResult: HookRunResult {
        timedOut ? .timeout : succeeded ? .ok : .failed
    }
}
