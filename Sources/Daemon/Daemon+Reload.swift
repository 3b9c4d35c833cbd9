import Config
import Durability
import Events
import HTTP
import Hooks
import IMDS
import Journal
import Lifecycle
import Logging
import ServiceLifecycle
import Synchronization
import Telemetry
import UnixSignals
import Watch
import Webhooks

extension Daemon {
    /// Reads the configuration again as `run` read it at start: the config file, the environment and the same flags.
    package typealias SettingsReader = @Sendable () throws(ConfigError) -> Settings

    /// Runs until SIGTERM or SIGINT like ``run()``, and reloads the configuration on SIGHUP (`systemctl reload`).
    ///
    /// What owns running work lives for the whole run: the event journal (consumers' progress), the hook dispatcher
    /// (running hooks), the lifecycle actions (completions retrying), the webhook outbox (on disk, behind a
    /// ``WebhookRelay``) and the metrics registry. A reload rebuilds the rest from the new settings (see
    /// ``DaemonReloader``).
    /// - Parameters:
    ///   - reread: Reads the settings again.
    ///   - levelSwitch: The log level every handler follows; a reload sets it.
    /// - Throws: As ``run()``, at start only: a reload never throws (an invalid configuration changes nothing).
    package func run(reloadingWith reread: @escaping SettingsReader, levelSwitch: LogLevelSwitch) async throws {
        DescriptorLimit.raiseSoftLimitToHard(logger: logger)
        let store = StateStore(directory: settings.stateDir)
        try store.checkSafety()
        let client = try settings.makeIMDSClient(logger: logger)
        let heartbeat = Heartbeat()
        // Always a registry, so that metrics switched on by a reload count the hooks and lifecycle actions as well; it
        // records only while metrics are configured (each generation sets that), so metrics off cost no poll anything.
        let exposition = DaemonMetrics.registry(settings: settings)
        let metrics = try DaemonMetrics(settings: settings, exposition: exposition, logger: logger)
        let relay = WebhookRelay()
        let sinks = try EventSinks(settings: settings, host: host, logger: logger, metrics: metrics, relay: relay)
        let lifecycle = settings.lifecycleActions(
            imds: client, downstream: EventFanOut([]), environment: host.environment, awsProxy: host.awsProxy,
            telemetry: metrics.telemetry, logger: logger
        )
        let journal = EventJournal(
            directory: settings.stateDir, consumers: [lifecycle] + sinks.consumers, logger: logger)
        await sinks.hooks.observeSequences { event, results in
            await lifecycle.sequenceEnded(event, results: results)
        }
        await resumeInterruptedWork(hooks: sinks.hooks, lifecycle: lifecycle, journal: journal)
        let first = try DaemonReloader.Generation(settings: settings, client: client, metrics: metrics, logger: logger)
        // Before the journal runs: the events it offers again at start go to these webhooks.
        await relay.replace(with: first.webhooks)
        logger.info(
            "imdswatch \(IMDSWatchVersion.current) watching \(first.client.endpoint)",
            metadata: [
                "sources": "\(settings.enabledSources.map(\.rawValue).joined(separator: ","))",
                "state_dir": "\(settings.stateDir)",
                "dry_run": "\(settings.dryRun)",
            ]
        )
        let reloader = DaemonReloader(
            first: first, reread: reread, levelSwitch: levelSwitch,
            parts: .init(
                host: host, store: store, journal: journal, heartbeat: heartbeat, exposition: exposition,
                relay: relay, lifecycle: lifecycle, statusLine: { await sinks.statusLine() }
            ),
            logger: logger
        )
        // The hooks first, then the journal: stopped last, after the reloader's poll loop, so that the journal's last
        // records reach the consumers' stores, no event it hands on finds the hooks stopped, and running hooks get
        // their grace once nothing else runs (as the unit's stop promises).
        var services: [any Service] = [sinks.hooks, journal, lifecycle] + sinks.services + [reloader]
        if let pinger = host.notifier.watchdogPinger(heartbeat: heartbeat, logger: logger) {
            services.append(WatchdogService(pinger: pinger))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("imdswatch stopped")
    }

    /// Runs the hook sequences a previous run did not finish, and tells the lifecycle actions which events' hooks
    /// will run after this start (their actions are completed when those hooks end, not at once).
    func resumeInterruptedWork(hooks: HookDispatcher, lifecycle: LifecycleActions, journal: EventJournal) async {
        // Hook sequences a previous run did not finish (killed mid-sequence) run their remaining hooks now.
        let resumed = await hooks.resumePending(nowMilliseconds: SystemWallClock().now())
        // So are the actions of events the journal offers to the hooks again (they had not taken them).
        let owedToHooks = await journal.unfinishedEventIDs(for: EventSinks.hooksConsumer)
        await lifecycle.hooksResumed(eventIDs: Set(resumed).union(owedToHooks))
    }

    /// The poll loop for `settings` (a reload passes the previous loop's state).
    static func makePoller(
        settings: Settings, client: IMDSClient<EventLoopClock>, journal: EventJournal, store: StateStore,
        logger: Logger, telemetry: Telemetry, heartbeat: Heartbeat, onRound: @escaping @Sendable () -> Void = {},
        initialState: WatchState? = nil
    ) -> Poller<EventLoopClock> {
        Poller(
            configuration: settings.pollerConfiguration,
            reader: client,
            journal: journal,
            store: store,
            clock: client.clock,
            logger: logger,
            executor: client.clock.loop,
            roundReportInterval: SystemdReporter.statusRefresh,
            onRound: onRound,
            onPoll: { heartbeat.beat() },
            telemetry: telemetry,
            initialState: initialState
        )
    }
}

/// Runs the parts of the daemon that a reload rebuilds (the IMDS client and poll loop, the systemd reporter, the
/// webhook dispatcher, the metrics listener and textfile) and rebuilds them on SIGHUP.
///
/// A reload: `RELOADING=1` with `MONOTONIC_USEC=`; the settings read again and checked with `config check`'s
/// checks; when they are invalid, one error line (every problem, each with its key and line), `READY=1`, and
/// nothing changes. Otherwise the old parts stop gracefully (the poll loop ends its round; pending deliveries stay in
/// the outbox), the new ones start with the old poll loop's state, the log level and `[asg]` change in place, and
/// the new reporter sends `READY=1` after the first round of polls. Running hooks are never touched.
struct DaemonReloader: Service {
    /// What a reload keeps and the new parts use.
    struct Parts: Sendable {
        let host: Daemon.Host
        let store: StateStore
        let journal: EventJournal
        let heartbeat: Heartbeat
        let exposition: MetricsExposition
        let relay: WebhookRelay
        let lifecycle: LifecycleActions
        let statusLine: @Sendable () async -> String
    }

    /// The rebuilt parts of one configuration. Built before the previous ones stop (building can fail and starts
    /// nothing); the poll loop is added once the previous one has stopped and handed over its state.
    struct Generation: Sendable {
        let settings: Settings
        let client: IMDSClient<EventLoopClock>
        let metrics: DaemonMetrics
        let webhooks: WebhookDispatcher?

        /// Builds what can fail: the IMDS client (given at start), the webhook dispatcher, the metrics services.
        init(
            settings: Settings, client: IMDSClient<EventLoopClock>? = nil, metrics: DaemonMetrics? = nil,
            exposition: MetricsExposition? = nil, logger: Logger
        ) throws {
            self.settings = settings
            self.client = try client ?? settings.makeIMDSClient(logger: logger)
            if let metrics {
                self.metrics = metrics
            } else if let exposition {
                self.metrics = try DaemonMetrics(settings: settings, exposition: exposition, logger: logger)
            } else {
                self.metrics = .off
            }
            self.webhooks =
                settings.webhooks.isEmpty
                ? nil : try settings.webhookDispatcher(logger: logger, telemetry: self.metrics.telemetry)
        }
    }

    let first: Generation
    let reread: Daemon.SettingsReader
    let levelSwitch: LogLevelSwitch
    let parts: Parts
    let logger: Logger

    /// A generation's services ended on their own (one threw or returned): the daemon stops (systemd restarts it)
    /// rather than run on without a poll loop.
    struct GenerationEnded: Error, CustomStringConvertible {
        let description: String
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let (requests, request) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let failed = OnceFlag()
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in hangups { request.yield() }
            }
            await withGracefulShutdownHandler {
                await runGenerations(requests: requests) { [logger] reason in
                    logger.error("the poll loop's services ended: \(reason); stopping")
                    failed.set()
                    request.finish()
                }
            } onGracefulShutdown: {
                request.finish()
            }
            tasks.cancelAll()
        }
        if failed.isSet { throw GenerationEnded(description: "the poll loop's services ended") }
    }

    /// Runs one generation at a time until `requests` ends (shutdown); each request is a reload.
    /// - Parameter failed: Called when a generation's group ends without being asked to.
    private func runGenerations(requests: AsyncStream<Void>, failed: @escaping @Sendable (String) -> Void) async {
        var generation = first
        var state: WatchState?
        var iterator = requests.makeAsyncIterator()
        while true {
            let reloading = OnceFlag()
            let stopping = OnceFlag()
            let (group, poller) = await start(generation, state: state, reloading: reloading)
            let next: Generation? = await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    do {
                        try await group.run()
                        if !stopping.isSet { failed("one returned") }
                    } catch {
                        failed("\(error)")
                    }
                }
                var accepted: Generation?
                while await iterator.next() != nil {
                    if let candidate = reloaded() {
                        accepted = candidate
                        break
                    }
                }
                if accepted != nil { reloading.set() }
                stopping.set()
                await group.triggerGracefulShutdown()
                await tasks.waitForAll()
                return accepted
            }
            guard let next else { return }
            state = await poller.currentState()
            // The old client's libcurl thread ends once idle (a later request, from the lifecycle lookups that may
            // still use it, starts it again).
            generation.client.clock.loop.requestStop()
            await apply(next, previous: generation.settings)
            generation = next
        }
    }

    /// The generation's services (metrics, the poll loop, the reporter, the webhooks) in a group of their own.
    private func start(
        _ generation: Generation, state: WatchState?, reloading: OnceFlag
    ) async -> (ServiceGroup, Poller<EventLoopClock>) {
        let settings = generation.settings
        let heartbeat = parts.heartbeat
        let poller = Daemon.makePoller(
            settings: settings, client: generation.client, journal: parts.journal, store: parts.store, logger: logger,
            telemetry: generation.metrics.telemetry, heartbeat: heartbeat, initialState: state
        )
        let statusLine = parts.statusLine
        let reporter = SystemdReporter(
            notifier: parts.host.notifier, rounds: poller.rounds, extraStatus: { await statusLine() }, logger: logger,
            isReloading: { reloading.isSet }
        )
        await parts.relay.replace(with: generation.webhooks)
        parts.exposition.isRecording = generation.metrics.isConfigured
        // Metrics first: the group stops services in reverse order, so the textfile's last write sees the rest stopped.
        let services: [any Service] =
            generation.metrics.services + [poller, reporter] + (generation.webhooks.map { [$0] } ?? [])
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [], logger: logger)
        )
        return (group, poller)
    }

    /// Reads and checks the settings again; `nil` (logged, `READY=1` sent) when they are invalid.
    private func reloaded() -> Generation? {
        let notifier = parts.host.notifier
        do { try notifier.reloading() } catch { logger.warning("could not notify systemd: \(error)") }
        logger.info("reloading the configuration (SIGHUP)")
        var problems: [String] = []
        var candidate: Settings?
        do {
            let settings = try reread()
            problems = settings.preflightProblems(logger: logger)
            candidate = settings
        } catch {
            problems = error.issues.map(\.description)
        }
        if let settings = candidate, problems.isEmpty {
            do {
                return try Generation(settings: settings, exposition: parts.exposition, logger: logger)
            } catch {
                problems = ["\(error)"]
            }
        }
        logger.error("configuration not reloaded, nothing changed: \(problems.joined(separator: "; "))")
        do { try notifier.ready() } catch { logger.warning("could not notify systemd: \(error)") }
        return nil
    }

    /// Applies what changes in place: the log level, `[asg]`; warns about settings only a restart applies.
    private func apply(_ next: Generation, previous: Settings) async {
        let settings = next.settings
        levelSwitch.level = settings.log.level
        if settings.asg != previous.asg || settings.endpoint != previous.endpoint {
            let context = settings.lifecycleContext(
                imds: next.client, environment: parts.host.environment, awsProxy: parts.host.awsProxy, logger: logger
            )
            await parts.lifecycle.reconfigure(settings: settings.asg, context: context)
        }
        let restartOnly = Self.restartOnlyChanges(from: previous, to: settings)
        if !restartOnly.isEmpty {
            logger.warning(
                "configuration reloaded; these take effect at the next restart: \(restartOnly.joined(separator: ", "))")
        } else {
            logger.info("configuration reloaded")
        }
    }

    /// The settings a reload does not apply (they belong to the parts that are kept), by their config key.
    static func restartOnlyChanges(from old: Settings, to new: Settings) -> [String] {
        var keys: [String] = []
        if old.stateDir != new.stateDir { keys.append("state_dir") }
        if old.hooksDir != new.hooksDir { keys.append("hooks_dir") }
        if old.hookTimeout != new.hookTimeout { keys.append("hook_timeout") }
        if old.maxConcurrentEvents != new.maxConcurrentEvents { keys.append("max_concurrent_events") }
        if old.dryRun != new.dryRun { keys.append("dry_run") }
        if old.log.target != new.log.target { keys.append("log.target") }
        return keys
    }
}

/// A flag set once: a generation stops for a reload rather than for the daemon's stop (its reporter then sends no
/// STOPPING=1), or was asked to stop at all.
final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Sets the flag.
    func set() { value.store(true, ordering: .relaxed) }

    /// Whether it was set.
    var isSet: Bool { value.load(ordering: .relaxed) }
}
