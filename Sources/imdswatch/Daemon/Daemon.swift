import Config
import Events
import HTTP
import IMDS
import Journal
import Logging
import ServiceLifecycle
import UnixSignals
import Watch

/// Assembles the running daemon from resolved settings: IMDS client, poll loop, event sinks, systemd reporting.
struct Daemon {
    let settings: Settings
    let logger: Logger

    func run() async throws {
        let client = try settings.makeIMDSClient()
        let notifier = SystemdNotifier()
        let heartbeat = Heartbeat()
        let metrics = DaemonMetrics(settings: settings, logger: logger)
        let sinks = try EventSinks(settings: settings, logger: logger, metrics: metrics)

        let poller = Poller(
            configuration: settings.pollerConfiguration,
            reader: client,
            sink: sinks.fanOut,
            store: StateStore(directory: settings.stateDir),
            clock: client.clock,
            logger: logger,
            executor: client.clock.loop,
            roundReportInterval: SystemdReporter.statusRefresh,
            onRound: { heartbeat.beat() },
            telemetry: metrics.telemetry
        )
        let reporter = SystemdReporter(
            notifier: notifier,
            rounds: poller.rounds,
            extraStatus: { await sinks.statusLine() },
            logger: logger
        )
        // Metrics first: the group stops services in reverse order, so the textfile's last write sees the rest stopped.
        var services: [any Service] = metrics.services + [poller, reporter] + sinks.services
        if let pinger = notifier.watchdogPinger(heartbeat: heartbeat, logger: logger) {
            services.append(WatchdogService(pinger: pinger))
        }
        logger.info(
            "imdswatch \(IMDSWatchVersion.current) watching \(client.endpoint)",
            metadata: [
                "sources": "\(settings.enabledSources.map(\.rawValue).joined(separator: ","))",
                "state_dir": "\(settings.stateDir)",
                "dry_run": "\(settings.dryRun)",
            ]
        )
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        await sinks.finish()
        logger.info("imdswatch stopped")
    }
}
