import Config
import Events
import Hooks
import Logging
import ServiceLifecycle
import Webhooks

/// Where detected events go: the hooks runner and the webhooks (the poll loop itself logs each detection), after
/// any observing sinks (the demo's timeline).
struct EventSinks: Sendable {
    let fanOut: EventFanOut
    /// The hooks runner: the lifecycle actions observe its sequences; ``HookDispatcher/resumePending(nowMilliseconds:)``
    /// runs at start.
    let hooks: HookDispatcher
    let services: [any Service]
    private let statusParts: [@Sendable () async -> String]
    private let finishers: [@Sendable () async -> Void]

    /// Builds the sinks these settings ask for.
    /// - Parameters:
    ///   - settings: Hooks directory and timeout, concurrency bound, dry run, webhooks, state directory.
    ///   - host: The hooks' extra environment and event file directory.
    ///   - logger: Where the hooks and the webhooks log.
    ///   - metrics: What they record through.
    ///   - observers: Sinks placed first in the fan-out (they only record).
    /// - Throws: `WebhookError` when a webhook cannot be set up.
    init(
        settings: Settings, host: Daemon.Host, logger: Logger, metrics: DaemonMetrics = .off, observers: [any EventSink] = []
    ) throws {
        var runner = HookRunner(configuration: .init(timeout: settings.hookTimeout), logger: logger)
        runner.telemetry = metrics.telemetry
        let hooks = HookDispatcher(
            catalog: HookCatalog(directory: settings.hooksDir),
            runner: runner,
            configuration: .init(
                maxConcurrentEvents: settings.maxConcurrentEvents, dryRun: settings.dryRun,
                eventFileDirectory: host.eventFileDirectory, extraEnvironment: host.hookEnvironment
            ),
            logger: logger,
            pending: PendingHookSequences(directory: settings.stateDir + "/hooks-pending", logger: logger)
        )
        // Hooks still running at shutdown get this long to finish (within the unit's TimeoutStopSec=120), then
        // SIGTERM and, 5 s later, SIGKILL to their process groups.
        let hookGrace = min(settings.hookTimeout, .seconds(100))
        // Observers first: they only record, and so see each event before its hooks start.
        var sinks: [any EventSink] = observers + [hooks]
        var services: [any Service] = []
        var statusParts: [@Sendable () async -> String] = [{ "hooks running: \(await hooks.runningHookCount)" }]
        if !settings.webhooks.isEmpty {
            // After the hooks in the fan-out: handing an event to the hooks returns at once, so spot hooks start
            // first and the webhook POSTs (written to the outbox, then sent) go out in parallel with them.
            let webhooks = try settings.webhookDispatcher(logger: logger, telemetry: metrics.telemetry)
            metrics.watchOutbox(of: webhooks)
            sinks.append(webhooks)
            services.append(webhooks)
            statusParts.append { "webhooks pending: \(await webhooks.pendingCount())" }
        }
        self.fanOut = EventFanOut(sinks)
        self.hooks = hooks
        self.services = services
        self.statusParts = statusParts
        self.finishers = [{ await hooks.shutdown(gracePeriod: hookGrace) }]
    }

    /// Parts of systemd's STATUS= line: hooks running, webhooks pending.
    func statusLine() async -> String {
        var parts: [String] = []
        for part in statusParts { parts.append(await part()) }
        return parts.joined(separator: "; ")
    }

    /// Waits, within bounds, for work the sinks still have in flight (hooks running) after the poll loop stopped.
    func finish() async {
        for finisher in finishers { await finisher() }
    }
}
