import Events

/// The `[asg]` table: which Auto Scaling lifecycle actions imdswatch completes, and how. Config decodes the file and
/// the `--asg-*-hook` flags straight into it (`Settings.asg`).
package struct AutoScalingSettings: Sendable, Equatable {
    /// `termination_hook` (`--asg-termination-hook`): completed after the hooks of a `Terminated` state.
    package var terminationHook: String?
    /// `launch_hook` (`--asg-launch-hook`): completed after the hooks of an `InService` or `Warmed:*` state.
    package var launchHook: String?
    /// `group`; `nil`: the tag `aws:autoscaling:groupName`, else `DescribeAutoScalingInstances`.
    package var group: String?
    /// `heartbeat_interval`; zero sends no heartbeats.
    package var heartbeatInterval: Duration
    /// `on_hook_failure`: the result when a hook fails or times out.
    package var onHookFailure: LifecycleActionResult
    /// `endpoint`; `nil`: `$AWS_ENDPOINT_URL_AUTO_SCALING`, `$AWS_ENDPOINT_URL`, then the region's.
    package var endpoint: String?

    /// The defaults: no hooks, heartbeats every 60 s, `continue` on hook failure.
    package init(
        terminationHook: String? = nil, launchHook: String? = nil, group: String? = nil,
        heartbeatInterval: Duration = .seconds(60), onHookFailure: LifecycleActionResult = .continue,
        endpoint: String? = nil
    ) {
        self.terminationHook = terminationHook
        self.launchHook = launchHook
        self.group = group
        self.heartbeatInterval = heartbeatInterval
        self.onHookFailure = onHookFailure
        self.endpoint = endpoint
    }

    /// Whether any lifecycle action is to be completed.
    package var isEnabled: Bool { terminationHook != nil || launchHook != nil }

    /// The lifecycle hook to complete when the target lifecycle state becomes `state`, if any:
    /// `Terminated` (and a warm pool's `Warmed:Terminated`) → the termination hook; `InService` and the other
    /// `Warmed:*` states → the launch hook.
    package func hook(forState state: String) -> String? {
        if state == "Terminated" || state == "Warmed:Terminated" { return terminationHook }
        if state == "InService" || state.hasPrefix("Warmed:") { return launchHook }
        return nil
    }
}
