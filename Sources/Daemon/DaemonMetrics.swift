import Config
import Durability
import Events
import Foundation
import Logging
import ServiceLifecycle
import Telemetry
import Watch
import Webhooks

/// The daemon's metrics, when `[metrics]` asks for any: one registry, the `/metrics` listener and the textfile
/// writer. With neither configured, ``telemetry`` is `Telemetry.disabled` and nothing is created.
struct DaemonMetrics: Sendable {
    /// What the components record through.
    let telemetry: Telemetry
    /// The listener and the textfile writer, as configured.
    let services: [any Service]
    private let exposition: MetricsExposition?

    /// Nothing: metrics not configured.
    static let off = DaemonMetrics(telemetry: .disabled, services: [], exposition: nil)

    private init(telemetry: Telemetry, services: [any Service], exposition: MetricsExposition?) {
        self.telemetry = telemetry
        self.services = services
        self.exposition = exposition
    }

    /// The metrics these settings ask for.
    /// - Parameters:
    ///   - settings: `[metrics] listen` and `textfile`; the enabled sources.
    ///   - logger: For the listener's address and textfile write failures.
    /// - Throws: ``MetricsTextfileError`` when the textfile's directory is not safe (someone other than root or the
    ///   daemon's user could change it).
    init(settings: Settings, logger: Logger) throws(MetricsTextfileError) {
        let configuration = settings.metrics
        guard Self.isConfigured(configuration) else {
            self = .off
            return
        }
        try self.init(settings: settings, exposition: Self.registry(settings: settings), logger: logger)
    }

    /// A registry with the series every run starts with (build info, the enabled sources' zeros), recording only
    /// while `[metrics]` is configured (``isConfigured``; a reload switches it): with metrics off, no poll pays for it.
    /// - Parameter settings: The enabled sources; `[metrics]`.
    static func registry(settings: Settings) -> MetricsExposition {
        let exposition = MetricsExposition(isRecording: isConfigured(settings.metrics))
        exposition.telemetry.start(version: IMDSWatchVersion.current, sources: settings.enabledSources)
        return exposition
    }

    /// The listener and the textfile writer these settings ask for, over a registry that outlives them (a reload
    /// replaces them and keeps the counts).
    /// - Parameters:
    ///   - settings: `[metrics] listen` and `textfile`.
    ///   - exposition: The registry.
    ///   - logger: For the listener's address and textfile write failures.
    /// - Throws: ``MetricsTextfileError`` when the textfile's directory is not safe.
    init(settings: Settings, exposition: MetricsExposition, logger: Logger) throws(MetricsTextfileError) {
        let configuration = settings.metrics
        var services: [any Service] = []
        if let listen = configuration.listen {
            services.append(
                MetricsListener(host: listen.host, port: listen.port, exposition: exposition, logger: logger))
        }
        if let path = configuration.textfile {
            try MetricsTextfileError.checkDirectory(of: path)
            services.append(
                MetricsTextfile(
                    path: path, exposition: exposition, clock: ContinuousClock(),
                    write: { bytes, path in
                        // 0644: node_exporter usually runs as its own user.
                        let url = URL(fileURLWithPath: path)
                        try SafeFile.writeDurably(
                            bytes, directory: url.deletingLastPathComponent().path, name: url.lastPathComponent,
                            mode: 0o644
                        )
                    },
                    logger: logger
                ))
        }
        self.init(telemetry: exposition.telemetry, services: services, exposition: exposition)
    }

    /// Whether anything exposes the registry (`[metrics] listen` or `textfile`): its telemetry should record.
    var isConfigured: Bool { !services.isEmpty }

    /// Whether these settings ask for a listener or a textfile.
    private static func isConfigured(_ metrics: Settings.MetricsSettings) -> Bool {
        metrics.listen != nil || metrics.textfile != nil
    }

    /// Samples the webhook outbox's size before each exposition (`imdswatch_webhook_outbox_pending`).
    /// - Parameter webhooks: The dispatcher.
    func watchOutbox(of webhooks: WebhookDispatcher) {
        watchOutbox { await webhooks.pendingCount() }
    }

    /// Samples the webhook outbox's size before each exposition, through `pending`.
    /// - Parameter pending: How many deliveries wait.
    func watchOutbox(pending: @escaping @Sendable () async -> Int) {
        guard let exposition else { return }
        let telemetry = telemetry
        exposition.addRefresh { telemetry.setOutboxPending(await pending()) }
    }
}
