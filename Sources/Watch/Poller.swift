import Durability
import Events
import HTTP
import IMDS
import Logging
import ServiceLifecycle
import Telemetry

/// The poll loop: polls every enabled source on its own schedule, detects changes and records each change (the
/// events and the state after them) in the ``EventJournal``, which hands the events to its consumers once the record
/// is durable. Runs until cancelled or a graceful shutdown; never exits because IMDS failed.
///
/// Each source has its own task, so a slow source never delays another (spot above all). Polls are scheduled
/// start to start with no drift (next due = previous due + interval); missed slots are skipped, never burst.
package actor Poller<ClockType: Clock<Duration>>: Service {
    nonisolated let configuration: PollerConfiguration
    nonisolated let enabledSources: [MetadataSource]
    nonisolated let reader: any MetadataReader
    nonisolated let journal: EventJournal
    let store: StateStore
    nonisolated let clock: ClockType
    let logger: Logger
    nonisolated let wallClock: any WallClock
    nonisolated let executor: (any TaskExecutor)?
    nonisolated let roundReportInterval: Duration?
    nonisolated let onRound: @Sendable () -> Void
    nonisolated let onPoll: @Sendable () -> Void
    nonisolated let telemetry: Telemetry
    /// The state to start from instead of the journal's (a reload hands over the previous poll loop's).
    nonisolated let initialState: WatchState?

    var machine = WatchStateMachine()
    var stateDirty = false
    var trackers: [MetadataSource: SourceTracker<ClockType.Instant>] = [:]
    var polledThisRound: Set<MetadataSource> = []
    var completedRounds = 0
    var lastReportedRound: (at: ClockType.Instant, failing: UInt32)?
    var instance = InstanceInfo.unknown
    var identityError: IMDSError?
    var identityKnown = false
    let roundContinuation: AsyncStream<PollerStatus>.Continuation

    /// A status snapshot after every completed round (the first one is the moment for systemd's `READY=1`), or
    /// fewer with a `roundReportInterval`.
    /// A round completes when every enabled source has been polled once since the previous round (sources that are
    /// absent by design, polled every 60 s, are not waited for), so rounds follow the slowest active source.
    /// Keeps only the newest snapshot when nobody reads; finishes when ``run()`` returns.
    package nonisolated let rounds: AsyncStream<PollerStatus>

    /// Creates a poll loop; starts nothing until ``run()``.
    /// - Parameters:
    ///   - configuration: Intervals and enabled sources.
    ///   - reader: Where to read IMDS (an ``IMDSClient`` in production).
    ///   - journal: Where each change is recorded (events and state in one durable record) and from where the events
    ///     reach their consumers; its state, else the checkpoint in `store`, is loaded when ``run()`` starts.
    ///   - store: The checkpoint (`state.json`, written at the journal's compaction).
    ///   - clock: Paces the polls (in production the IMDS transport's `EventLoopClock`, whose timers wake the loop
    ///     that runs the polls).
    ///   - logger: Receives detections, absent sources, rate-limited errors and recoveries.
    ///   - wallClock: The one wall-clock time source, for `detected_at`, poll times and moved-aside file names
    ///     (``SystemWallClock`` by default; tests inject theirs).
    ///   - executor: Where the poll loops run (the IMDS transport's event loop in production, so that a poll needs
    ///     no thread hop); `nil` runs them on the global executor.
    ///   - roundReportInterval: `nil` puts every round on ``rounds``; otherwise only the first round, rounds that
    ///     change the set of failing sources, and at most one other per this interval.
    ///   - onRound: Called after every completed round, on the poll loop; must be quick.
    ///   - onPoll: Called after every poll, answered or failed, once its change is recorded, on the poll loop: the
    ///     watchdog heartbeat (a round lasts as long as the slowest source's interval, 60 s at the defaults, longer
    ///     than `WatchdogSec=`; a poll comes at the fastest one's); must be quick.
    ///   - telemetry: Records each poll and each event (nothing by default).
    ///   - initialState: The state to start from (a reload passes the previous poll loop's ``currentState()``, which
    ///     is newer than what the journal held when it was opened); `nil` loads the journal's, else the checkpoint.
    package init(
        configuration: PollerConfiguration,
        reader: any MetadataReader,
        journal: EventJournal,
        store: StateStore,
        clock: ClockType,
        logger: Logger,
        wallClock: any WallClock = SystemWallClock(),
        executor: (any TaskExecutor)? = nil,
        roundReportInterval: Duration? = nil,
        onRound: @escaping @Sendable () -> Void = {},
        onPoll: @escaping @Sendable () -> Void = {},
        telemetry: Telemetry = .disabled,
        initialState: WatchState? = nil
    ) {
        self.configuration = configuration
        self.enabledSources = configuration.enabledSources
        self.reader = reader
        self.journal = journal
        self.store = store
        self.clock = clock
        self.logger = logger
        self.wallClock = wallClock
        self.executor = executor
        self.roundReportInterval = roundReportInterval
        self.onRound = onRound
        self.onPoll = onPoll
        self.telemetry = telemetry
        self.initialState = initialState
        (rounds, roundContinuation) = AsyncStream.makeStream(
            of: PollerStatus.self, bufferingPolicy: .bufferingNewest(1))
        for source in MetadataSource.allCases { trackers[source] = SourceTracker() }
    }

    /// Loads the state, reads the identity document, then polls until cancelled or gracefully shut down.
    /// - Throws: Never in practice (IMDS errors are logged, not thrown); the signature is `Service`'s.
    /// The whole poll loop runs inside `run`, so this one attribute gives the daemon's clock a specialized copy of it
    /// and of everything it calls (no generic metadata look-ups per poll; about 5 % fewer instructions per poll
    /// cycle, `bench/run`'s callgrind row); other clocks (tests) take the generic path.
    @_specialize(where ClockType == EventLoopClock)
    package func run() async throws {
        if let initialState {
            machine = WatchStateMachine(state: initialState)
        } else {
            machine = WatchStateMachine(state: await loadState())
        }
        await refreshIdentity()
        let sources = enabledSources
        if sources.isEmpty {
            logger.warning("no IMDS source is enabled: nothing to watch")
            completeRoundIfDone()
        }
        // One start for every source: sources with the same interval fall due at the same instants, so that one
        // timer wake-up serves them all.
        let start = clock.now
        await withTaskExecutorPreference(executor) {
            await cancelWhenGracefulShutdown { [self] in
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.identityLoop() }
                    for source in sources {
                        group.addTask { await self.sourceLoop(source, start: start) }
                    }
                }
            }
        }
        roundContinuation.finish()
    }

    /// A snapshot: last poll time and outcome per source, failing sources, the instance.
    package func status() -> PollerStatus {
        PollerStatus(
            completedRounds: completedRounds,
            sources: MetadataSource.allCases.map { source in
                let tracker = trackers[source] ?? SourceTracker()
                return SourceStatus(
                    source: source, enabled: configuration[source].enabled,
                    lastPollMilliseconds: tracker.lastPollMilliseconds, lastObservation: tracker.lastObservation,
                    consecutiveFailures: tracker.consecutiveFailures, notConfigured: tracker.notConfigured
                )
            },
            instance: instance, identityError: identityError
        )
    }

    /// Reads the identity document and every enabled source once, without firing events or saving state
    /// (`imdswatch status`).
    /// - Returns: The per-source report.
    package nonisolated func pollOnce() async -> PollReport {
        await PollReport.collect(sources: enabledSources, from: reader)
    }

    /// The state the machine holds now (for tests and diagnostics).
    package func currentState() -> WatchState {
        machine.state
    }

    /// The journal's last state (read on its I/O queue), else the checkpoint.
    private func loadState() async -> WatchState {
        if let json = await journal.open() {
            do {
                return try WatchState(json: json)
            } catch {
                logger.warning(
                    "the event journal's last state is not a valid state (\(error)): using the checkpoint",
                    metadata: ["path": "\(journal.path)"])
            }
        }
        return store.load(logger: logger, nowMilliseconds: wallClock.now())
    }

    // MARK: Loops

    private nonisolated func sourceLoop(_ source: MetadataSource, start: ClockType.Instant) async {
        let interval = configuration[source].interval
        var due = start
        var tagCache = TagReadCache(interval: interval)
        while !Task.isCancelled {
            let started = clock.now
            let observation = await source.read(from: reader, tagCache: &tagCache)
            let slow = await handle(source, observation, duration: started.duration(to: clock.now))
            due = Self.nextDue(
                after: due, interval: slow ? configuration.notConfiguredInterval : interval, now: clock.now)
            do {
                try await clock.sleep(until: due, tolerance: nil)
            } catch {
                return
            }
        }
    }

    private nonisolated func identityLoop() async {
        while !Task.isCancelled {
            let known = await identityKnown
            do {
                try await clock.sleep(
                    for: known ? configuration.identityRefreshInterval : configuration.identityRetryInterval)
            } catch {
                return
            }
            await refreshIdentity()
        }
    }

    /// The next start time: `due + interval`, or the first slot of that grid after `now` when polls ran late.
    /// - Parameters:
    ///   - due: When the poll that just finished was due.
    ///   - interval: The interval (positive).
    ///   - now: The clock's time now.
    package static func nextDue(after due: ClockType.Instant, interval: Duration, now: ClockType.Instant)
        -> ClockType.Instant
    {
        let next = due.advanced(by: interval)
        guard next <= now, interval > .zero else { return next }
        let behind = due.duration(to: now)
        let skipped = Int((behind / interval).rounded(.down))
        var candidate = due.advanced(by: interval * skipped)
        while candidate <= now { candidate = candidate.advanced(by: interval) }
        return candidate
    }

    // MARK: Handling observations

    /// Records one poll, applies it to the state machine and records the change in the journal.
    /// - Returns: True when the source should be polled at the slow not-configured interval.
    private func handle(_ source: MetadataSource, _ observation: Observation, duration: Duration) async -> Bool {
        let now = wallClock.now()
        let slow = track(source, observation, at: now)
        telemetry.recordPoll(source, observation, duration: duration, unixMilliseconds: now)
        let outcome = machine.observe(source, observation, instance: instance, detectedAtMilliseconds: now)
        if outcome.persist || stateDirty || !outcome.events.isEmpty {
            // No suspension between `observe` and this call: the record of these events and the state that says they
            // fired is queued before any other source's change can be, and becomes durable in one write. The journal
            // offers the events to their consumers only then; this source is polled again only after it too.
            let ticket = journal.record(events: outcome.events, state: machine.state.json)
            noteSaved(await ticket.durable())
            for event in outcome.events {
                logDetection(event)
                telemetry.recordEvent(event.type)
            }
        }
        polledThisRound.insert(source)
        onPoll()
        completeRoundIfDone()
        return slow
    }

    /// A failed journal write is logged by the journal; the state is recorded again at the next poll.
    private func noteSaved(_ durable: Bool) {
        if durable, stateDirty {
            logger.notice("state saved again", metadata: ["path": "\(journal.path)"])
        }
        stateDirty = !durable
    }

    private func logDetection(_ event: Event) {
        let record = Self.detectionLog(event)
        logger.log(level: record.level, record.message, metadata: record.metadata)
    }

    /// The log record of a detected event (journald gets its metadata as `IMDSWATCH_EVENT_*` fields): a warning
    /// for a spot notice, a notice otherwise.
    /// - Parameter event: The detected event.
    /// - Returns: The level, the message (`detected TYPE: DATA-JSON`) and the metadata.
    package static func detectionLog(_ event: Event) -> (
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata
    ) {
        let metadata: Logger.Metadata = [
            LogField.eventType: "\(event.type.rawValue)",
            LogField.eventID: "\(event.id)",
            "source": "\(event.source)",
        ]
        let message: Logger.Message = "detected \(event.type.rawValue): \(event.encoded.data)"
        return (event.type == .spotInterruption ? .warning : .notice, message, metadata)
    }

    /// A round completes when every enabled source has been polled since the last round, not counting sources that
    /// are absent by design (polled slowly) once they have been polled at all.
    private func completeRoundIfDone() {
        let waiting = enabledSources.contains { source in
            !polledThisRound.contains(source) && !(trackers[source]?.notConfigured ?? false)
        }
        guard !waiting else { return }
        // Keeping the capacity: the set is refilled every round, and a new allocation and resize per round was
        // measurable in the instructions per poll cycle.
        polledThisRound.removeAll(keepingCapacity: true)
        completedRounds += 1
        onRound()
        var failing: UInt32 = 0
        for (bit, source) in MetadataSource.allCases.enumerated() where (trackers[source]?.consecutiveFailures ?? 0) > 0
        {
            failing |= 1 << bit
        }
        let now = clock.now
        if let roundReportInterval, let last = lastReportedRound,
            last.failing == failing, last.at.duration(to: now) < roundReportInterval
        {
            return
        }
        lastReportedRound = (now, failing)
        roundContinuation.yield(status())
    }

    private func refreshIdentity() async {
        do throws(IMDSError) {
            let document = try await InstanceIdentityDocument.read(from: reader)
            instance = document
            if identityError != nil {
                logger.info(
                    "instance identity document readable again", metadata: ["instance_id": "\(document.instanceID)"])
            }
            identityError = nil
            identityKnown = true
        } catch {
            if identityError == nil {
                logger.warning(
                    "cannot read the instance identity document: \(error.message); events carry \(identityKnown ? "the last known" : "empty") instance fields until it is readable",
                    metadata: ["path": "\(MetadataPath.identityDocument)", "error_code": "\(error.code.rawValue)"]
                )
            }
            identityError = error
        }
    }
}
