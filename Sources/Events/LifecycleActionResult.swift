/// The result of an Auto Scaling lifecycle action (`LifecycleActionResult`), also the values of `[asg]
/// on_hook_failure` (`continue`, `abandon`).
package enum LifecycleActionResult: String, Sendable, Equatable, CaseIterable, Codable {
    /// Let the instance go on (launch: into service; termination: terminate now).
    case `continue` = "CONTINUE"
    /// Launch: terminate the instance; termination: terminate it too, but without waiting further.
    case abandon = "ABANDON"

    /// The config file's spelling: `continue`, `abandon`.
    package var configName: String { rawValue.lowercased() }
}
