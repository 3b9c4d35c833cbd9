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
import UnixSignals
import Watch

/// Assembles the running daemon from resolved settings: IMDS client, poll loop, event sinks, systemd reporting.
///
/// `imdswatch run` calls ``run()``; `imdswatch demo` calls ``assemble(observers:)`` and runs the same services in a
/// group of its own, so that the demo exercises exactly the daemon's parts.
package struct Daemon: Sendable {
    /// What the daemon takes from the process it runs in. The daemon uses ``process``; the demo gives its own, so
    /// that neither the user's AWS variables nor a systemd `NOTIFY_SOCKET` reach a demo run, and its hooks find
    /// the demo's fake commands first on their `PATH`.
    package struct Host: Sendable {
        /// The variables the lifecycle actions read (AWS credentials, region, endpoint).
        package var environment: [String: String]
        /// How the Auto Scaling API is reached: libcurl's proxy variables for the daemon, none for a loopback API.
        package var awsProxy: CurlTransport.Options.Proxy
        /// Tells systemd how the daemon is doing (disabled when the environment has no `NOTIFY_SOCKET`).
        package var notifier: SystemdNotifier
        /// Variables added to the hooks' environment, which is otherwise this process's (the `IMDSWATCH_*`
        /// variables win over these).
        package var hookEnvironment: [String: String?] = [:]
        /// Where event files for the hooks go (`nil`: `$RUNTIME_DIRECTORY`, `$TMPDIR` or `/tmp`).
        package var eventFileDirectory: String?

        /// The process's own environment, libcurl's proxy variables and systemd's notify socket.
        package static var process: Host {
            let environment = ProcessEnvironment.current
            return Host(
                environment: environment, awsProxy: .environment, notifier: SystemdNotifier(environment: environment))
        }

        /// Creates a host; the hooks get this process's environment and write event files where they do by default.
        package init(environment: [String: String], awsProxy: CurlTransport.Options.Proxy, notifier: SystemdNotifier) {
            self.environment = environment
            self.awsProxy = awsProxy
            self.notifier = notifier
        }
    }

    /// Who watches the assembled daemon from outside (the demo's timeline); the daemon itself has none.
    package struct Observers: Sendable {
        /// Get every event as well, before the hooks and the webhooks (after the lifecycle actions' enrichment).
        package var sinks: [any EventSink] = []
        /// Told when an event's hook sequence has ended, after the lifecycle actions were.
        package var sequenceEnded: HookDispatcher.SequenceObserver?
        /// Called after every completed round of polls, on the poll loop (it must be quick).
        package var roundCompleted: @Sendable () -> Void = {}

        /// No observers.
        package init() {}
    }

    /// The assembled parts, ready to run in a `ServiceGroup`.
    package struct Assembly: Sendable {
        /// The services, in start order (the group stops them in reverse).
        package let services: [any Service]
        /// The hooks runner (for ``HookDispatcher/waitUntilIdle()``); one of ``services``.
        package let hooks: HookDispatcher
        /// The IMDS endpoint being watched.
        package let endpoint: String
    }

    let settings: Settings
    let logger: Logger
    let host: Host

    /// Creates a daemon.
    /// - Parameters:
    ///   - settings: The resolved settings.
    ///   - logger: Where every part logs.
    ///   - host: What it takes from the process (default: this process's environment).
    package init(settings: Settings, logger: Logger, host: Host = .process) {
        self.settings = settings
        self.logger = logger
        self.host = host
    }

    /// Runs until SIGTERM or SIGINT, then lets running hooks finish within a bound; SIGHUP reloads these same
    /// settings (``run(reloadingWith:levelSwitch:)`` is what `imdswatch run` calls, with the file read again).
    /// - Throws: A state directory that is not safe, an IMDS endpoint or a webhook that cannot be set up (before
    ///   anything runs), or what the service group throws.
    package func run() async throws {
        try await run(
            reloadingWith: { [settings] () throws(ConfigError) -> Settings in settings },
            levelSwitch: LogLevelSwitch(settings.log.level))
    }

    /// Builds every part (and resumes the hook sequences a previous run did not finish), starting nothing else.
    /// - Parameter observers: Who else is told about events, hook sequences and poll rounds.
    /// - Returns: The services to run, and what to await after they stopped.
    /// - Throws: A state directory that is not safe, an IMDS endpoint or a webhook that cannot be set up.
    package func assemble(observers: Observers = .init()) async throws -> Assembly {
        let store = StateStore(directory: settings.stateDir)
        try store.checkSafety()
        let client = try settings.makeIMDSClient(logger: logger)
        let heartbeat = Heartbeat()
        let metrics = try DaemonMetrics(settings: settings, logger: logger)
        let sinks = try EventSinks(
            settings: settings, host: host, logger: logger, metrics: metrics, observers: observers.sinks)
        // Auto Scaling lifecycle actions are the journal's stage in front of the hooks and webhooks: they add the
        // group and hook to asg-lifecycle-state events and complete the action when the event's hooks end.
        let lifecycle = settings.lifecycleActions(
            imds: client, downstream: EventFanOut([]), environment: host.environment, awsProxy: host.awsProxy,
            telemetry: metrics.telemetry, logger: logger
        )
        let journal = EventJournal(
            directory: settings.stateDir, consumers: [lifecycle] + sinks.consumers, logger: logger)
        let sequenceEnded = observers.sequenceEnded
        await sinks.hooks.observeSequences { event, results in
            await lifecycle.sequenceEnded(event, results: results)
            await sequenceEnded?(event, results)
        }
        await resumeInterruptedWork(hooks: sinks.hooks, lifecycle: lifecycle, journal: journal)

        let roundCompleted = observers.roundCompleted
        let poller = Self.makePoller(
            settings: settings, client: client, journal: journal, store: store, logger: logger,
            telemetry: metrics.telemetry, heartbeat: heartbeat, onRound: roundCompleted
        )
        let reporter = SystemdReporter(
            notifier: host.notifier,
            rounds: poller.rounds,
            extraStatus: { await sinks.statusLine() },
            logger: logger
        )
        // Metrics first: the group stops services in reverse order, so the textfile's last write sees the rest stopped.
        // The journal before the poller: stopped after it, so that the poller's last records still reach the
        // consumers' stores. The hooks before the journal: stopped after it, so that no event it hands on finds
        // them stopped, and running hooks get their grace once nothing else runs (as the unit's stop promises).
        var services: [any Service] =
            metrics.services + [sinks.hooks, journal, poller, reporter, lifecycle] + sinks.services
        if let pinger = host.notifier.watchdogPinger(heartbeat: heartbeat, logger: logger) {
            services.append(WatchdogService(pinger: pinger))
        }
        return Assembly(services: services, hooks: sinks.hooks, endpoint: "\(client.endpoint)")
    }
}
