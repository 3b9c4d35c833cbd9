import Journal
import Webhooks

/// Every command-line flag that changes a setting; `nil` (or empty) means the flag was not given.
package struct Overrides: Sendable, Equatable {
    /// `--endpoint URL`.
    package var endpoint: String?
    /// `--imds-timeout SECONDS`.
    package var imdsTimeout: Duration?
    /// `--hooks-dir DIR`.
    package var hooksDir: String?
    /// `--state-dir DIR`.
    package var stateDir: String?
    /// `--interval SECONDS`: the poll interval of every source, per-source intervals of the file included.
    package var interval: Duration?
    /// `--hook-timeout SECONDS`.
    package var hookTimeout: Duration?
    /// `--webhook URL`, repeatable: endpoints added to those of the file.
    package var webhooks: [String]
    /// `--webhook-secret-file FILE`, for the `--webhook` URLs.
    package var webhookSecretFile: String?
    /// `--webhook-format json|cloudevents|slack`, for the `--webhook` URLs.
    package var webhookFormat: WebhookFormat?
    /// `--log-target auto|journal|stderr`.
    package var logTarget: LogTarget?
    /// `--dry-run` (`nil` when absent: a flag cannot turn dry run off).
    package var dryRun: Bool?
    /// `--asg-termination-hook NAME`.
    package var asgTerminationHook: String?
    /// `--asg-launch-hook NAME`.
    package var asgLaunchHook: String?
    /// `--metrics-listen ADDR:PORT`.
    package var metricsListen: String?

    /// Creates overrides; every parameter defaults to "flag not given".
    /// - Parameters: One per flag, see the properties.
    package init(
        endpoint: String? = nil, imdsTimeout: Duration? = nil, hooksDir: String? = nil, stateDir: String? = nil,
        interval: Duration? = nil, hookTimeout: Duration? = nil, webhooks: [String] = [],
        webhookSecretFile: String? = nil, webhookFormat: WebhookFormat? = nil,
        logTarget: LogTarget? = nil, dryRun: Bool? = nil,
        asgTerminationHook: String? = nil, asgLaunchHook: String? = nil
    ) {
        self.asgTerminationHook = asgTerminationHook
        self.asgLaunchHook = asgLaunchHook
        self.endpoint = endpoint
        self.imdsTimeout = imdsTimeout
        self.hooksDir = hooksDir
        self.stateDir = stateDir
        self.interval = interval
        self.hookTimeout = hookTimeout
        self.webhooks = webhooks
        self.webhookSecretFile = webhookSecretFile
        self.webhookFormat = webhookFormat
        self.logTarget = logTarget
        self.dryRun = dryRun
    }
}
