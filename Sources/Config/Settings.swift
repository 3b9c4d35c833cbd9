import Events
import Lifecycle
import Webhooks

/// Every setting the daemon needs, fully resolved from defaults, the config file, the environment and flags.
///
/// Build one with ``resolve(file:environment:overrides:)``; `Settings()` holds the defaults.
package struct Settings: Sendable, Equatable {
    /// The IMDS base URL; `nil` lets the IMDS module resolve it from `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`.
    package var endpoint: String?
    /// Total time allowed per IMDS request.
    package var imdsTimeout: Duration
    /// Time allowed to connect to IMDS; never more than ``imdsTimeout``.
    package var imdsConnectTimeout: Duration
    /// Lifetime asked for IMDSv2 session tokens, 1...21600 seconds.
    package var tokenTTLSeconds: Int
    /// The top-level interval (`interval`, `--interval`): that of every source that has no interval of its own;
    /// `nil` when none is set, and each source then polls at its ``MetadataSource/defaultInterval``.
    package var interval: Duration?
    /// Per-source settings; holds every ``MetadataSource``.
    package var sources: [MetadataSource: SourceSettings]
    /// The hooks directory (`hooks.d`).
    package var hooksDir: String
    /// Time allowed per hook before SIGTERM to its process group.
    package var hookTimeout: Duration
    /// How many events may have hooks running at once.
    package var maxConcurrentEvents: Int
    /// Persisted state and the webhook outbox.
    package var stateDir: String
    /// Detect and log, but run no hook and send no webhook.
    package var dryRun: Bool
    /// Where logs go and how much.
    package var log: LogSettings
    /// Webhook endpoints: those of the file's `[[webhook]]` tables, then those of `--webhook` flags.
    package var webhooks: [WebhookEndpoint]
    /// The config file these settings were read from; `nil` when there was none.
    package var configFile: String?
    /// Auto Scaling lifecycle actions (`[asg]`, `--asg-*-hook`).
    package var asg: AutoScalingSettings
    /// `[metrics]`: the `/metrics` listener and the node_exporter textfile (both off by default).
    package var metrics = MetricsSettings()

    /// The default hooks directory.
    package static let defaultHooksDir = "/etc/imdswatch/hooks.d"
    /// The default state directory when `$STATE_DIRECTORY` is not set.
    package static let defaultStateDir = "/var/lib/imdswatch"

    /// The defaults, with no environment and no file.
    package init() {
        endpoint = nil
        imdsTimeout = .seconds(2)
        imdsConnectTimeout = .seconds(1)
        tokenTTLSeconds = 21600
        interval = nil
        sources = Dictionary(
            uniqueKeysWithValues: MetadataSource.allCases.map {
                ($0, SourceSettings(enabled: true, interval: $0.defaultInterval))
            })
        hooksDir = Self.defaultHooksDir
        hookTimeout = .seconds(90)
        maxConcurrentEvents = 4
        stateDir = Self.defaultStateDir
        dryRun = false
        log = LogSettings()
        webhooks = []
        configFile = nil
        asg = AutoScalingSettings()
    }

    /// The settings of one source.
    /// - Parameter source: The source.
    /// - Returns: Its settings (enabled, at the top-level interval or else its default, if it is somehow missing
    ///   from ``sources``).
    package func settings(for source: MetadataSource) -> SourceSettings {
        sources[source] ?? SourceSettings(enabled: true, interval: interval ?? source.defaultInterval)
    }

    /// The sources that are enabled, in ``MetadataSource`` order.
    package var enabledSources: [MetadataSource] {
        MetadataSource.allCases.filter { settings(for: $0).enabled }
    }
}
