import Events
import Logging
import ServiceLifecycle

/// Runs the hooks of every delivered event: one sequence per event (its hooks in order, one at a time),
/// sequences of different events in parallel up to a bound. A `spot-interruption` never waits behind other events:
/// its sequence starts at once and does not count against the bound; spot sequences have a bound of their own
/// (``Configuration/maxConcurrentSpotEvents``), so that a flapping or hostile IMDS cannot fork without limit.
///
/// Plug it into the watcher as an ``EventSink`` and run it as a `Service`: ``run()`` owns every sequence in its task
/// group. At graceful shutdown it stops taking events, drops those still waiting for a slot (logged), and gives the
/// running sequences up to ``Configuration/shutdownGrace`` to finish; then it ends the hooks still running (SIGTERM,
/// SIGKILL after the runner's kill grace) and returns once they are gone. Events delivered before ``run()`` starts
/// wait for it.
package actor HookDispatcher: EventSink, Service {
    /// How events are dispatched.
    package struct Configuration: Sendable, Equatable {
        /// How many event sequences (other than `spot-interruption`) may run at once; more wait in order.
        package var maxConcurrentEvents: Int
        /// How many `spot-interruption` sequences may run at once (default 8); more wait in order, behind other
        /// spot sequences only.
        package var maxConcurrentSpotEvents: Int
        /// Run nothing; log which hooks would have run.
        package var dryRun: Bool
        /// Where event files go (`nil`: `$RUNTIME_DIRECTORY`, `$TMPDIR` or `/tmp`).
        package var eventFileDirectory: String?
        /// Variables added to the hooks' environment (the demo puts its fakes first on `PATH`); the `IMDSWATCH_*`
        /// variables win over these.
        package var extraEnvironment: [String: String?]
        /// How long running sequences may still take after a graceful shutdown began (default 100 s, within the
        /// unit's `TimeoutStopSec=120`), before their hooks are ended.
        package var shutdownGrace: Duration

        /// Creates a configuration.
        package init(
            maxConcurrentEvents: Int = 4, maxConcurrentSpotEvents: Int = 8, dryRun: Bool = false,
            eventFileDirectory: String? = nil, extraEnvironment: [String: String?] = [:],
            shutdownGrace: Duration = .seconds(100)
        ) {
            self.maxConcurrentEvents = max(1, maxConcurrentEvents)
            self.maxConcurrentSpotEvents = max(1, maxConcurrentSpotEvents)
            self.dryRun = dryRun
            self.eventFileDirectory = eventFileDirectory
            self.extraEnvironment = extraEnvironment
            self.shutdownGrace = shutdownGrace
        }
    }

    /// A sequence admitted to run, on its way to ``run()``'s task group.
    private struct Start: Sendable {
        var event: Event
        var bounded: Bool
        var done: Set<String>
    }

    private let catalog: HookCatalog
    private let runner: HookRunner
    let configuration: Configuration
    let logger: Logger
    /// The durable record of unfinished sequences (`nil`: not durable, as in `hooks test`).
    let pending: PendingHookSequences?
    /// Hooks that already ran for events resumed after a restart, by event id.
    var resumedDone: [String: [String]] = [:]
    /// Times the shutdown grace.
    private let clock: any Clock<Duration>
    /// Events ``resumePending(nowMilliseconds:)`` took up at start (resumed or skipped): the journal may offer them
    /// again in this run (its acknowledgement had not been written), and a resumed sequence that already ended has
    /// no record left to dedupe by, so this does.
    var handledAtStart: Set<String> = []

    private var waiting: [Event] = []
    private var boundedActive = 0
    private var spotWaiting: [Event] = []
    private var spotActive = 0
    /// Sequences admitted and not yet ended (started in ``run()``'s group, or on their way there).
    private var active = 0
    private var runningHooks = 0
    private var accepting = true
    private var sequenceObserver: SequenceObserver?
    private nonisolated let starts: AsyncStream<Start>
    private nonisolated let startContinuation: AsyncStream<Start>.Continuation
    private nonisolated let idle = IdleSignal()

    /// Told when an event's hook sequence has ended, with one result per hook that ran (none when the event had
    /// no hooks or in dry run). Not called for events dropped at shutdown before their sequence started.
    package typealias SequenceObserver = @Sendable (Event, [HookResult]) async -> Void

    /// Sets the observer of ended sequences (the Auto Scaling lifecycle actions use it); replaces any previous one.
    package func observeSequences(_ observer: @escaping SequenceObserver) {
        sequenceObserver = observer
    }

    /// Creates a dispatcher. Starts nothing: sequences run once ``run()`` runs.
    /// - Parameters:
    ///   - catalog: Where hooks are found (read afresh for each event).
    ///   - runner: Runs each hook (timeouts, output logging).
    ///   - configuration: Concurrency bounds, dry run, event file directory, shutdown grace.
    ///   - logger: For dispatch decisions and skipped files.
    ///   - pending: Where unfinished sequences are recorded, so that they resume after a restart (see
    ///     ``resumePending(nowMilliseconds:)``); `nil` keeps nothing.
    ///   - clock: Times the shutdown grace (tests pass a manual clock).
    package init(
        catalog: HookCatalog, runner: HookRunner, configuration: Configuration = .init(), logger: Logger,
        pending: PendingHookSequences? = nil, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.catalog = catalog
        self.runner = runner
        self.configuration = configuration
        self.logger = logger
        self.pending = pending
        self.clock = clock
        (starts, startContinuation) = AsyncStream.makeStream(of: Start.self)
    }

    /// Runs the sequences until a graceful shutdown (see the type's documentation) or cancellation (the running
    /// hooks are ended at once). Each sequence, and the sweep of what finished hooks left behind
    /// (``HookRunner/sweepLeftovers()``), is a child of one task group: none outlives this call.
    package func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.runner.sweepLeftovers() }
            await withGracefulShutdownHandler {
                for await start in starts {
                    group.addTask { await self.runSequence(start) }
                }
            } onGracefulShutdown: {
                // Sequences already admitted still come through before the stream ends.
                self.startContinuation.finish()
            }
            // The stream ends at graceful shutdown or when this task is cancelled.
            startContinuation.finish()
            stopAccepting()
            let finished = await idle.wait(upTo: configuration.shutdownGrace, on: clock)
            if !finished {
                logger.error(
                    "hooks still running after \(configuration.shutdownGrace): ending them (\(runningHooks) running)")
            }
            // Ends the hooks still running, and what finished hooks left behind.
            group.cancelAll()
        }
    }

    /// Hands an event over: starts its hook sequence, or queues it when the bound is reached (never a
    /// `spot-interruption`). Returns at once, without waiting for any hook.
    package func deliver(_ event: Event) async {
        var logger = logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        guard accepting else {
            logger.error("shutting down: hooks not run for this event")
            return
        }
        if handledAtStart.remove(event.id) != nil {
            logger.info("hooks for this event were taken up after the restart: not run twice")
            return
        }
        // Durable before `deliver` returns, so before the journal acknowledges the event for the hooks.
        if let pending, !configuration.dryRun, await !pending.record(event) {
            logger.info("hooks for this event are already pending: not run twice")
            return
        }
        admit(event, logger: logger)
    }

    /// Starts `event`'s sequence, or queues it behind the sequences of its kind (spot, or the others) when their
    /// bound is reached.
    func admit(_ event: Event, logger: Logger) {
        if event.type == .spotInterruption {
            guard spotActive < configuration.maxConcurrentSpotEvents else {
                spotWaiting.append(event)
                idle.update(isIdle: false)
                logger.notice(
                    "\(spotActive) spot sequences already running hooks: this one waits (\(spotWaiting.count) waiting)")
                return
            }
            start(event, bounded: false)
        } else if boundedActive < configuration.maxConcurrentEvents {
            start(event, bounded: true)
        } else {
            waiting.append(event)
            idle.update(isIdle: false)
            logger.notice("\(boundedActive) events already running hooks: this one waits (\(waiting.count) waiting)")
        }
    }

    /// How many hooks are running right now (for systemd `STATUS=`).
    package var runningHookCount: Int { runningHooks }

    /// How many events have hook sequences running or waiting to start.
    package var pendingEventCount: Int { active + waiting.count + spotWaiting.count }

    /// Waits until no sequence runs and none waits: woken when the last one ends, not polled. Returns early when
    /// the calling task is cancelled.
    package nonisolated func waitUntilIdle() async {
        await idle.wait()
    }

    /// Stops taking events; those still waiting for a slot are not run (logged at error level).
    private func stopAccepting() {
        accepting = false
        for event in waiting + spotWaiting {
            logger.error(
                "shutting down: hooks not run for this event",
                metadata: [LogField.eventType: .string(event.type.rawValue), LogField.eventID: .string(event.id)]
            )
        }
        waiting.removeAll()
        spotWaiting.removeAll()
        updateIdle()
    }

    private func start(_ event: Event, bounded: Bool) {
        let start = Start(event: event, bounded: bounded, done: Set(resumedDone.removeValue(forKey: event.id) ?? []))
        guard case .enqueued = startContinuation.yield(start) else {
            logger.error(
                "shutting down: hooks not run for this event",
                metadata: [LogField.eventType: .string(event.type.rawValue), LogField.eventID: .string(event.id)]
            )
            return
        }
        active += 1
        if bounded { boundedActive += 1 }
        if event.type == .spotInterruption { spotActive += 1 }
        idle.update(isIdle: false)
    }

    /// One sequence, as a child of ``run()``'s group.
    private nonisolated func runSequence(_ start: Start) async {
        let results = await Self.process(
            start.event, catalog: catalog, runner: runner, configuration: configuration, logger: logger,
            progress: .init(pending: pending, done: start.done)
        ) {
            await self.adjustRunningHooks(by: $0)
        }
        let observer = await sequenceObserver
        await observer?(start.event, results)
        await finish(start)
    }

    private func finish(_ start: Start) {
        active -= 1
        if start.event.type == .spotInterruption {
            spotActive -= 1
            if spotActive < configuration.maxConcurrentSpotEvents, !spotWaiting.isEmpty, accepting {
                self.start(spotWaiting.removeFirst(), bounded: false)
            }
        }
        if start.bounded {
            boundedActive -= 1
            while boundedActive < configuration.maxConcurrentEvents, !waiting.isEmpty, accepting {
                self.start(waiting.removeFirst(), bounded: true)
            }
        }
        updateIdle()
    }

    private func updateIdle() {
        idle.update(isIdle: active == 0 && waiting.isEmpty && spotWaiting.isEmpty)
    }

    private func adjustRunningHooks(by delta: Int) {
        runningHooks += delta
    }

    /// One event's sequence: find the hooks, log the skipped files, run (or in dry run, list) the hooks.
    private static func process(
        _ event: Event,
        catalog: HookCatalog,
        runner: HookRunner,
        configuration: Configuration,
        logger: Logger,
        progress: SequenceProgress,
        adjustRunning: @escaping @Sendable (Int) async -> Void
    ) async -> [HookResult] {
        var logger = logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        // Short of descriptors, the catalog would read the directory as unreadable or its files as unsafe and the
        // event's hooks would be lost: it waits for them instead (until shutdown), the sequence still pending.
        _ = await HookRunner.waitForDescriptors(within: nil, hook: nil, clock: runner.clock, logger: logger)
        let plan = catalog.plan(for: event.type)
        plan.log(to: logger)
        let hooks = progress.remaining(plan.hooks, logger: logger)
        if hooks.isEmpty {
            logger.debug("no hooks for \(event.type.rawValue) in \(catalog.directory)")
            await progress.finished(event, ran: [], of: [])
            return []
        }
        if configuration.dryRun {
            for hook in hooks {
                logger.notice(
                    "dry run: would run hook \(hook.relativePath)", metadata: [LogField.hook: .string(hook.name)])
            }
            return []
        }
        let results = await runner.runSequence(
            hooks,
            for: event,
            dryRun: false,
            eventFileDirectory: configuration.eventFileDirectory,
            extraEnvironment: configuration.extraEnvironment,
            willRun: { _ in await adjustRunning(1) },
            didRun: { result in
                await adjustRunning(-1)
                await progress.ended(result, of: hooks, event: event)
            }
        )
        await progress.finished(event, ran: results, of: hooks)
        return results
    }
}

extension HookPlan {
    /// Logs every skipped file with its reason: unsafe ones at error level, non-executable files and mistyped
    /// `TYPE.d` directories at notice, the rest (examples, backups, hidden files) at debug; and a directory that
    /// cannot be read at error level.
    package func log(to logger: Logger) {
        if let directoryError {
            logger.error("cannot read the hooks directory: \(directoryError)")
        }
        for file in skipped {
            let level: Logger.Level =
                switch file.reason {
                case _ where file.reason.isUnsafe: .error
                case .notExecutable, .unknownTypeDirectory, .notRegularFile, .unreadable: .notice
                default: .debug
                }
            logger.log(
                level: level,
                "skipping hook \(file.relativePath): \(file.reason)",
                metadata: [LogField.hook: .string(file.name)]
            )
        }
    }
}
