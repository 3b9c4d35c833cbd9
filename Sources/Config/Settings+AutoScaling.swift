import Lifecycle

/// `[asg]` as Config reads it: the `--asg-*-hook` flags and the checks of names and endpoint variables (the type is
/// Lifecycle's ``AutoScalingSettings``).
extension AutoScalingSettings {
    /// Applies `--asg-termination-hook` and `--asg-launch-hook`.
    mutating func apply(_ overrides: Overrides, issues: inout [ConfigIssue]) {
        for (flag, value, keyPath) in [
            ("--asg-termination-hook", overrides.asgTerminationHook, \AutoScalingSettings.terminationHook),
            ("--asg-launch-hook", overrides.asgLaunchHook, \AutoScalingSettings.launchHook),
        ] {
            guard let value else { continue }
            if let problem = Self.nameProblem(value) {
                issues.append(ConfigIssue(key: flag, message: problem))
            } else {
                self[keyPath: keyPath] = value
            }
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
            if let problem = Validation.urlProblem(url, schemes: ["http", "https"]) ?? Validation.cleartextProblem(url)
            {
                issues.append(ConfigIssue(key: variable, message: problem))
            }
            return
        }
    }

    /// What is wrong with a lifecycle hook or group name (1–255 characters, no control characters).
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty || name.count > 255 {
            return "expected a name of 1 to 255 characters, got \(Validation.quoted(name))"
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "control characters in \(Validation.quoted(name))"
        }
        return nil
    }
}
