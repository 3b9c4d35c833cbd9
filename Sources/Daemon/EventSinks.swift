import Config
import Durability
import Events
import Hooks
import Lifecycle
import Logging
import ServiceLifecycle
import Webhooks

/// Where detected events go: the hooks runner and the webhooks (the poll loop itself logs each detection), after
/// any observing sinks (the demo's timeline). Each is a consumer of the event journal, downstream of the lifecycle
/// stage (which enriches `asg-lifecycle-state` events).
struct EventSinks: Sendable {
    /// The journal consumers: `hooks` (the observers, then the hook dispatcher) and `webhooks` when configured.
    let consumers: [any JournalConsumer]
    /// The hooks runner, a service of its own: the lifecycle actions observe its sequences;
    /// ``HookDispatcher/resumePending(nowMilliseconds:)`` runs at start.
    let hooks: HookDispatcher
    /// The other sinks' services (the webhooks).
    let services: [any Service]
    private let statusParts: [@Sendable () async -> String]

    /// Builds the sinks these settings ask for.
    /// - Parameters:
    ///   - settings: Hooks directory and timeout, concurrency bound, dry run, webhooks, state directory.
    ///   - host: The hooks' extra environment and event file directory.
    ///   - logger: Where the hooks and the webhooks log.
    ///   - metrics: What they record through.
    ///   - observers: Sinks placed first in the fan-out (they only record).
    ///   - relay: For a daemon that reloads: the webhooks consumer, always present, hands events to whichever
    ///     dispatcher the relay holds (the reloader runs it); `nil` builds and runs the dispatcher here.
    /// - Throws: `WebhookError` when a webhook cannot be set up.
    init(
        settings: Settings, host: Daemon.Host, logger: Logger, metrics: DaemonMetrics = .off,
        observers: [any EventSink] = [],
        relay: WebhookRelay? = nil
    ) throws {
        var runner = HookRunner(configuration: .init(timeout: settings.hookTimeout), logger: logger)
        runner.telemetry = metrics.telemetry
        let hooks = HookDispatcher(
            catalog: HookCatalog(directory: settings.hooksDir),
            runner: runner,
            configuration: .init(
                maxConcurrentEvents: settings.maxConcurrentEvents, dryRun: settings.dryRun,
                eventFileDirectory: host.eventFileDirectory, extraEnvironment: host.hookEnvironment,
                // Hooks still running at shutdown get this long to finish (within the unit's TimeoutStopSec=120),
                // then SIGTERM and, 5 s later, SIGKILL to their process groups.
                shutdownGrace: min(settings.hookTimeout, .seconds(100))
            ),
            logger: logger,
            pending: PendingHookSequences(directory: settings.stateDir + "/hooks-pending", logger: logger)
        )
        // Observers first: they only record, and so see each event before its hooks start.
        var consumers: [any JournalConsumer] = [
            SinkConsumer(
                name: Self.hooksConsumer, upstream: Self.lifecycleStage, sink: EventFanOut(observers + [hooks]))
        ]
        var services: [any Service] = []
        var statusParts: [@Sendable () async -> String] = [{ "hooks running: \(await hooks.runningHookCount)" }]
        if let relay {
            metrics.watchOutbox { await relay.pendingCount() }
            consumers.append(SinkConsumer(name: Self.webhooksConsumer, upstream: Self.lifecycleStage, sink: relay))
            statusParts.append { await relay.hasDispatcher ? "webhooks pending: \(await relay.pendingCount())" : "" }
        } else if !settings.webhooks.isEmpty {
            // A consumer of its own: the outbox entry is written (and the POST sent) in parallel with the hooks.
            let webhooks = try settings.webhookDispatcher(logger: logger, telemetry: metrics.telemetry)
            metrics.watchOutbox(of: webhooks)
            consumers.append(SinkConsumer(name: Self.webhooksConsumer, upstream: Self.lifecycleStage, sink: webhooks))
            services.append(webhooks)
            statusParts.append { "webhooks pending: \(await webhooks.pendingCount())" }
        }
        self.consumers = consumers
        self.hooks = hooks
        self.services = services
        self.statusParts = statusParts
    }

    /// The consumer the hooks and webhooks take `asg-lifecycle-state` events from.
    static let lifecycleStage = LifecycleActions.journalName
    /// The hooks' name in the journal.
    static let hooksConsumer = "hooks"
    /// The webhooks' name in the journal.
    static let webhooksConsumer = "webhooks"

    /// Parts of systemd's STATUS= line: hooks running, webhooks pending.
    func statusLine() async -> String {
        var parts: [String] = []
        for part in statusParts {
            let text = await part()
            if !text.isEmpty { parts.append(text) }
        }
        return parts.joined(separator: "; ")
    }

}
