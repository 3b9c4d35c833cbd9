import Events
import Lifecycle
import TOMLKit

extension ConfigFileDecoder {
    /// The keys of `[asg]`.
    static let autoScalingKeys = [
        "termination_hook", "launch_hook", "group", "heartbeat_interval", "on_hook_failure", "endpoint",
    ]

    /// Reads the `[asg]` table, when present, recording each problem with its key and line.
    mutating func autoScaling(_ root: TOMLTable) -> AutoScalingSettings? {
        guard let table = table(root, "asg", at: "") else { return nil }
        checkKeys(table, at: "asg", allowed: Self.autoScalingKeys)
        var result = AutoScalingSettings()
        for (key, path) in [
            ("termination_hook", \AutoScalingSettings.terminationHook),
            ("launch_hook", \AutoScalingSettings.launchHook),
            ("group", \AutoScalingSettings.group),
        ] {
            guard let name = string(table, key, at: "asg") else { continue }
            if let problem = AutoScalingSettings.nameProblem(name) {
                fail("asg." + key, problem)
            } else {
                result[keyPath: path] = name
            }
        }
        if let interval = duration(table, "heartbeat_interval", at: "asg", exclusive: false, maximum: .seconds(7200)) {
            result.heartbeatInterval = interval
        }
        if let text = string(table, "on_hook_failure", at: "asg") {
            if let choice = LifecycleActionResult.allCases.first(where: { $0.configName == text }) {
                result.onHookFailure = choice
            } else {
                fail("asg.on_hook_failure", "expected one of continue, abandon, got \(Validation.quoted(text))")
            }
        }
        if let endpoint = string(table, "endpoint", at: "asg") {
            if let problem = Validation.urlProblem(endpoint, schemes: ["http", "https"])
                ?? Validation.cleartextProblem(endpoint)
            {
                fail("asg.endpoint", problem)
            } else {
                result.endpoint = endpoint
            }
        }
        return result
    }
}
