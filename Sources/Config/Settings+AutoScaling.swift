public import Events

extension Settings {
    /// The `[asg]` table: which Auto Scaling lifecycle actions imdswatch completes, and how.
    public struct AutoScaling: Sendable, Equatable {
        /// `termination_hook` (`--asg-termination-hook`): completed after the hooks of a `Terminated` state.
        public var terminationHook: String?
        /// `launch_hook` (`--asg-launch-hook`): completed after the hooks of an `InService` or `Warmed:*` state.
        public var launchHook: String?
        /// `group`; `nil`: the tag `aws:autoscaling:groupName`, else `DescribeAutoScalingInstances`.
        public var group: String?
        /// `heartbeat_interval`; zero sends no heartbeats.
        public var heartbeatInterval: Duration
        /// `on_hook_failure`: the result when a hook fails or times out.
        public var onHookFailure: LifecycleActionResult
        /// `endpoint`; `nil`: `$AWS_ENDPOINT_URL_AUTO_SCALING`, `$AWS_ENDPOINT_URL`, then the region's.
        public var endpoint: String?

        /// The defaults: no hooks, heartbeats every 60 s, `continue` on hook failure.
        public init(
            terminationHook: String? = nil, launchHook: String? = nil, group: String? = nil,
            heartbeatInterval: Duration = .seconds(60), onHookFailure: LifecycleActionResult = .continue, endpoint: String? = nil
        ) {
            self.terminationHook = terminationHook
            self.launchHook = launchHook
            self.group = group
            self.heartbeatInterval = heartbeatInterval
            self.onHookFailure = onHookFailure
            self.endpoint = endpoint
        }

        /// Whether any lifecycle action is to be completed.
        public var isEnabled: Bool { terminationHook != nil || launchHook != nil }

        /// The lifecycle hook to complete when the target lifecycle state becomes `state`, if any:
        /// `Terminated` (and a warm pool's `Warmed:Terminated`) → the termination hook; `InService` and the other
        /// `Warmed:*` states → the launch hook.
        public func hook(forState state: String) -> String? {
            if state == "Terminated" || state == "Warmed:Terminated" { return terminationHook }
            if state == "InService" || state.hasPrefix("Warmed:") { return launchHook }
            return nil
        }

        /// Applies `--asg-termination-hook` and `--asg-launch-hook`.
        mutating func apply(_ overrides: Overrides, issues: inout [ConfigIssue]) {
            for (flag, value, keyPath) in [
                ("--asg-termination-hook", overrides.asgTerminationHook, \AutoScaling.terminationHook),
                ("--asg-launch-hook", overrides.asgLaunchHook, \AutoScaling.launchHook),
            ] {
                guard let value else { continue }
                if let problem = Self.nameProblem(value) { issues.append(ConfigIssue(key: flag, message: problem)) } else { self[keyPath: keyPath] = value }
            }
        }

        /// Checks the endpoint variables the API would use (`[asg] endpoint` is checked with the file): when lifecycle
        /// hooks are configured and no `[asg] endpoint` is set, the first non-empty of
        /// `AWS_ENDPOINT_URL_AUTO_SCALING` and `AWS_ENDPOINT_URL` must be a valid URL, and plain `http://` only to a
        /// loopback host.
        func checkEndpointVariables(_ environment: [String: String], issues: inout [ConfigIssue]) {
            guard isEnabled, endpoint == nil else { return }
            for variable in ["AWS_ENDPOINT_URL_AUTO_SCALING", "AWS_ENDPOINT_URL"] {
                guard let url = environment[variable], !url.isEmpty else { continue }
                if let problem = Validation.urlProblem(url, schemes: ["http", "https"]) ?? Validation.cleartextProblem(url) {
                    issues.append(ConfigIssue(key: variable, message: problem))
                }
                return
            }
        }

        /// What is wrong with a lifecycle hook or group name (1–255 characters, no control characters).
        static func nameProblem(_ name: String) -> String? {
            if name.isEmpty || name.count > 255 { return "expected a name of 1 to 255 characters, got \(Validation.quoted(name))" }
            if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                return "control characters in \(Validation.quoted(name))"
            }
            return nil
        }
    }
}
