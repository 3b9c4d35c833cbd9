public import Journal
public import Webhooks

/// Every command-line flag that changes a setting; `nil` (or empty) means the flag was not given.
public struct Overrides: Sendable, Equatable {
    /// `--endpoint URL`.
    public var endpoint: String?
    /// `--imds-timeout SECONDS`.
    public var imdsTimeout: Duration?
    /// `--hooks-dir DIR`.
    public var hooksDir: String?
    /// `--state-dir DIR`.
    public var stateDir: String?
    /// `--interval SECONDS`: the poll interval of every source, per-source intervals of the file included.
    public var interval: Duration?
    /// `--hook-timeout SECONDS`.
    public var hookTimeout: Duration?
    /// `--webhook URL`, repeatable: endpoints added to those of the file.
    public var webhooks: [String]
    /// `--webhook-secret-file FILE`, for the `--webhook` URLs.
    public var webhookSecretFile: String?
    /// `--webhook-format json|cloudevents|slack`, for the `--webhook` URLs.
    public var webhookFormat: WebhookFormat?
    /// `--log-target auto|journal|stderr`.
    public var logTarget: LogTarget?
    /// `--dry-run` (`nil` when absent: a flag cannot turn dry run off).
    public var dryRun: Bool?
    /// `--asg-termination-hook NAME`.
    public var asgTerminationHook: String?
    /// `--asg-launch-hook NAME`.
    public var asgLaunchHook: String?
    /// `--metrics-listen ADDR:PORT`.
    public var metricsListen: String?

    /// Creates overrides; every parameter defaults to "flag not given".
    /// - Parameters: One per flag, see the properties.
    public init(
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
