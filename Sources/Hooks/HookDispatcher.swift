import Events
import Logging

/// Runs the hooks of every delivered event: one sequence per event (its hooks in order, one at a time),
/// sequences of different events in parallel up to a bound. A `spot-interruption` never waits behind other events:
/// its sequence starts at once and does not count against the bound; spot sequences have a bound of their own
/// (``Configuration/maxConcurrentSpotEvents``), so that a flapping or hostile IMDS cannot fork without limit.
///
/// Plug it into the watcher as an ``EventSink``; at shutdown call ``shutdown(gracePeriod:)``.
public actor HookDispatcher: EventSink {
    /// How events are dispatched.
    public struct Configuration: Sendable, Equatable {
        /// How many event sequences (other than `spot-interruption`) may run at once; more wait in order.
        public var maxConcurrentEvents: Int
        /// How many `spot-interruption` sequences may run at once (default 8); more wait in order, behind other
        /// spot sequences only.
        public var maxConcurrentSpotEvents: Int
        /// Run nothing; log which hooks would have run.
        public var dryRun: Bool
        /// Where event files go (`nil`: `$RUNTIME_DIRECTORY`, `$TMPDIR` or `/tmp`).
        public var eventFileDirectory: String?
        /// Variables added to the hooks' environment (the demo puts its fakes first on `PATH`); the `IMDSWATCH_*`
        /// variables win over these.
        public var extraEnvironment: [String: String?]

        /// Creates a configuration.
        public init(
            maxConcurrentEvents: Int = 4, maxConcurrentSpotEvents: Int = 8, dryRun: Bool = false,
            eventFileDirectory: String? = nil, extraEnvironment: [String: String?] = [:]
        ) {
            self.maxConcurrentEvents = max(1, maxConcurrentEvents)
            self.maxConcurrentSpotEvents = max(1, maxConcurrentSpotEvents)
            self.dryRun = dryRun
            self.eventFileDirectory = eventFileDirectory
            self.extraEnvironment = extraEnvironment
        }
    }

    private let catalog: HookCatalog
    private let runner: HookRunner
    let configuration: Configuration
    let logger: Logger
    /// The durable record of unfinished sequences (`nil`: not durable, as in `hooks test`).
    let pending: PendingHookSequences?
    /// Hooks that already ran for events resumed after a restart, by event id.
    var resumedDone: [String: [String]] = [:]
    /// Events ``resumePending(nowMilliseconds:)`` took up at start (resumed or skipped): the journal may offer them
    /// again in this run (its acknowledgement had not been written), and a resumed sequence that already ended has
    /// no record left to dedupe by, so this does.
    var handledAtStart: Set<String> = []

    private var waiting: [Event] = []
    private var boundedActive = 0
    private var spotWaiting: [Event] = []
    private var spotActive = 0
    private var sequences: [Int: Task<Void, Never>] = [:]
    private var nextSequenceID = 0
    private var runningHooks = 0
    private var accepting = true
    private var sequenceObserver: SequenceObserver?

    /// Told when an event's hook sequence has ended, with one result per hook that ran (none when the event had
    /// no hooks or in dry run). Not called for events dropped at shutdown before their sequence started.
    public typealias SequenceObserver = @Sendable (Event, [HookResult]) async -> Void

    /// Sets the observer of ended sequences (the Auto Scaling lifecycle actions use it); replaces any previous one.
    public func observeSequences(_ observer: @escaping SequenceObserver) {
        sequenceObserver = observer
    }

    /// Creates a dispatcher. Starts nothing until the first event.
    /// - Parameters:
    ///   - catalog: Where hooks are found (read afresh for each event).
    ///   - runner: Runs each hook (timeouts, output logging).
    ///   - configuration: Concurrency bound, dry run, event file directory.
    ///   - logger: For dispatch decisions and skipped files.
    ///   - pending: Where unfinished sequences are recorded, so that they resume after a restart (see
    ///     ``resumePending(nowMilliseconds:)``); `nil` keeps nothing.
    public init(
        catalog: HookCatalog, runner: HookRunner, configuration: Configuration = .init(), logger: Logger,
        pending: PendingHookSequences? = nil
    ) {
        self.catalog = catalog
        self.runner = runner
        self.configuration = configuration
        self.logger = logger
        self.pending = pending
    }

    /// Hands an event over: starts its hook sequence, or queues it when the bound is reached (never a
    /// `spot-interruption`). Returns at once, without waiting for any hook.
    public func deliver(_ event: Event) async {
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
        // Durable before `deliver` returns, so before the poll loop saves the state that says the event fired.
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
                logger.notice("\(spotActive) spot sequences already running hooks: this one waits (\(spotWaiting.count) waiting)")
                return
            }
            start(event, bounded: false)
        } else if boundedActive < configuration.maxConcurrentEvents {
            start(event, bounded: true)
        } else {
            waiting.append(event)
            logger.notice("\(boundedActive) events already running hooks: this one waits (\(waiting.count) waiting)")
        }
    }

    /// How many hooks are running right now (for systemd `STATUS=`).
    public var runningHookCount: Int { runningHooks }

    /// How many events have hook sequences running or waiting to start.
    public var pendingEventCount: Int { sequences.count + waiting.count + spotWaiting.count }

    /// Waits until no sequence runs and none waits. Returns early when the calling task is cancelled.
    public func waitUntilIdle() async {
        while !sequences.isEmpty || !waiting.isEmpty || !spotWaiting.isEmpty {
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
        }
    }

    /// Stops taking events and waits up to `gracePeriod` for running sequences; then ends the hooks still
    /// running (SIGTERM, SIGKILL after the runner's kill grace) and waits for them to go.
    /// Events still waiting for a slot are not run (logged at error level).
    /// - Returns: `true` when every sequence finished within the grace period.
    @discardableResult
    public func shutdown(gracePeriod: Duration) async -> Bool {
        accepting = false
        for event in waiting + spotWaiting {
            logger.error(
                "shutting down: hooks not run for this event",
                metadata: [LogField.eventType: .string(event.type.rawValue), LogField.eventID: .string(event.id)]
            )
        }
        waiting.removeAll()
        spotWaiting.removeAll()
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitUntilIdle(); return !Task.isCancelled }
            group.addTask { try? await Task.sleep(for: gracePeriod); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finished {
            logger.error("hooks still running after \(gracePeriod): ending them (\(runningHooks) running)")
            let remaining = Array(sequences.values)
            for task in remaining { task.cancel() }
            for task in remaining { await task.value }
        }
        return finished
    }

    func start(_ event: Event, bounded: Bool) {
        let id = nextSequenceID
        nextSequenceID += 1
        if bounded { boundedActive += 1 }
        let spot = event.type == .spotInterruption
        if spot { spotActive += 1 }
        let (catalog, runner, configuration, logger, pending) = (catalog, runner, configuration, logger, pending)
        let done = Set(resumedDone.removeValue(forKey: event.id) ?? [])
        sequences[id] = Task {
            let results = await Self.process(
                event, catalog: catalog, runner: runner, configuration: configuration, logger: logger,
                progress: .init(pending: pending, done: done)
            ) {
                await self.adjustRunningHooks(by: $0)
            }
            await self.sequenceObserver?(event, results)
            self.finish(id, bounded: bounded, spot: spot)
        }
    }

    private func finish(_ id: Int, bounded: Bool, spot: Bool) {
        sequences[id] = nil
        if spot {
            spotActive -= 1
            if spotActive < configuration.maxConcurrentSpotEvents, !spotWaiting.isEmpty, accepting {
                start(spotWaiting.removeFirst(), bounded: false)
            }
        }
        guard bounded else { return }
        boundedActive -= 1
        while boundedActive < configuration.maxConcurrentEvents, !waiting.isEmpty, accepting {
            start(waiting.removeFirst(), bounded: true)
        }
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
        _ = await HookRunner.waitForDescriptors(within: nil, hook: nil, logger: logger)
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
                logger.notice("dry run: would run hook \(hook.relativePath)", metadata: [LogField.hook: .string(hook.name)])
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
    public func log(to logger: Logger) {
        if let directoryError {
            logger.error("cannot read the hooks directory: \(directoryError)")
        }
        for file in skipped {
            let level: Logger.Level = switch file.reason {
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
