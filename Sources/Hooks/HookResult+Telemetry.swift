public import Telemetry

extension HookResult {
    /// The result label of `imdswatch_hook_runs_total`: `timeout` when it ran past its timeout, `ok` when it
    /// succeeded, otherwise `failed` (a non-zero exit, a signal, not started, stopped at shutdown).
    public var telemetryResult: HookRunResult {
        timedOut ? .timeout : succeeded ? .ok : .failed
    }
}
