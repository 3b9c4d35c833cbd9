import Config
import Events
import HTTP
import Hooks
import IMDS
import Journal
import Lifecycle
import Logging
import ServiceLifecycle
import UnixSignals
import Watch

/// Assembles the running daemon from resolved settings: IMDS client, poll loop, event sinks, systemd reporting.
struct Daemon {
    let settings: Settings
    let logger: Logger

    func run() async throws {
        let store = StateStore(directory: settings.stateDir)
        try store.checkSafety()
        let client = try settings.makeIMDSClient(logger: logger)
        let notifier = SystemdNotifier()
        let heartbeat = Heartbeat()
        let metrics = DaemonMetrics(settings: settings, logger: logger)
        let sinks = try EventSinks(settings: settings, logger: logger, metrics: metrics)
        // Auto Scaling lifecycle actions sit in front of the hooks and webhooks: they add the group and hook to
        // asg-lifecycle-state events and complete the action when the event's hooks end.
        let lifecycle = settings.lifecycleActions(imds: client, downstream: sinks.fanOut, telemetry: metrics.telemetry, logger: logger)
        await sinks.hooks.observeSequences { event, results in await lifecycle.sequenceEnded(event, results: results) }
        // Hook sequences a previous run did not finish (killed mid-sequence) run their remaining hooks now; a lifecycle
        // action whose drain is resumed this way is completed when the resumed hooks end, not at once.
        let resumed = await sinks.hooks.resumePending(nowMilliseconds: SafeFile.wallClockMilliseconds())
        await lifecycle.hooksResumed(eventIDs: Set(resumed))

        let poller = Poller(
            configuration: settings.pollerConfiguration,
            reader: client,
            sink: lifecycle,
            store: store,
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
        var services: [any Service] = metrics.services + [poller, reporter, lifecycle] + sinks.services
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
