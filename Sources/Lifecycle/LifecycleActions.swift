import AWS
import Durability
import Events
import Hooks
import Logging
import ServiceLifecycle
import Telemetry

/// Completes the instance's Auto Scaling lifecycle actions around the hooks of `asg-lifecycle-state` events.
///
/// As the journal's `lifecycle` stage (``take(_:)``) it looks the group up, adds `group` and `lifecycle_hook` to
/// the event's data and records a pending action in the state directory before the event goes on to the hooks.
/// As a `Service` its ``run()`` owns one child task per action, each running ``perform(_:)`` from start to end:
/// heartbeats in a child task while the event's hooks run (the ``HookDispatcher`` reports their end through
/// ``sequenceEnded(_:results:)``), then one `CompleteLifecycleAction`, retried (the group lookup too, when it had
/// failed) until confirmed, gone, or past the hook's timeout. Actions a previous run left pending are taken up at
/// start; a shutdown cancels the actions in progress and leaves each pending in the state directory.
package actor LifecycleActions: EventSink, Service {
    /// A call to the Auto Scaling API, for outcome reporting.
    package enum Call: String, Sendable {
        /// `RecordLifecycleActionHeartbeat`.
        case heartbeat = "RecordLifecycleActionHeartbeat"
        /// `CompleteLifecycleAction`.
        case complete = "CompleteLifecycleAction"

        /// Its `action` label in `imdswatch_lifecycle_actions_total`.
        package var metricLabel: String {
            switch self {
            case .heartbeat: "heartbeat"
            case .complete: "complete"
            }
        }
    }

    /// How a call ended: `ok`, `failed` (after retries), `denied` (IAM), `gone` (no active action), `dry_run`.
    package enum Outcome: String, Sendable {
        /// The service accepted it.
        case ok
        /// It failed after the client's retries (throttling, 5xx, no answer, other errors).
        case failed
        /// `AccessDenied`/`UnauthorizedOperation`: the IAM permission is missing.
        case denied
        /// `ValidationError` "No active Lifecycle Action found".
        case gone
        /// `--dry-run`: logged, not sent.
        case dryRun = "dry_run"
    }

    /// Where the service stands: before ``run()`` actions queue up for it; after it, a completion gets one attempt.
    private enum Stage {
        case notStarted, running, stopped
    }

    var settings: AutoScalingSettings
    let dryRun: Bool
    private let downstream: any EventSink
    var context: LifecycleContext
    private let store: LifecycleActionStore
    let sleep: @Sendable (Duration) async throws -> Void
    let logger: Logger
    private let telemetry: Telemetry
    /// The actions file's content.
    var actions: [PendingLifecycleAction] = []
    private var loaded = false
    /// Actions a previous run left pending with their hooks cut short, and whose hooks are not resumed.
    private var inherited: Set<String> = []
    /// Actions handed to ``run()``'s task group (queued or running).
    private var active: Set<String> = []
    /// Actions whose function waits for the event's hooks to end.
    private var waitingForHooks: Set<String> = []
    private var stage = Stage.notStarted
    private let hookEnds = HookSequenceEnds()
    private let queue: AsyncStream<String>
    private let queueInput: AsyncStream<String>.Continuation
    private var settledWaiters: [CheckedContinuation<Void, Never>] = []
    /// Whether the hook's timeout was asked of `DescribeLifecycleHooks` for an action in this run.
    var timeoutAsked: Set<String> = []
    var deniedReported: Set<String> = []
    private var dryRunTargets: [String: LifecycleActionTarget] = [:]

    /// Creates the component.
    /// - Parameters:
    ///   - settings: The `[asg]` settings.
    ///   - dryRun: Send nothing; log what would be sent.
    ///   - downstream: Where ``deliver(_:)`` hands events on (the daemon's journal hands them on itself).
    ///   - context: Group, region, instance and API client lookups.
    ///   - stateDirectory: Where pending actions are recorded.
    ///   - sleep: Waits between heartbeats and between completion retries (a clock's `sleep(for:)`).
    ///   - logger: Receives every heartbeat and completion line.
    ///   - telemetry: Counts each call's outcome (`imdswatch_lifecycle_actions_total`).
    package init(
        settings: AutoScalingSettings, dryRun: Bool, downstream: any EventSink, context: LifecycleContext,
        stateDirectory: String, sleep: @escaping @Sendable (Duration) async throws -> Void, logger: Logger,
        telemetry: Telemetry = .disabled
    ) {
        self.settings = settings
        self.dryRun = dryRun
        self.downstream = downstream
        self.context = context
        self.store = LifecycleActionStore(directory: stateDirectory)
        self.sleep = sleep
        self.logger = logger
        self.telemetry = telemetry
        (queue, queueInput) = AsyncStream.makeStream(of: String.self)
    }

    /// Takes new `[asg]` settings (a reload): events from now on use them; actions already recorded keep their
    /// target, heartbeats and completions in progress go on as they are.
    /// - Parameters:
    ///   - settings: The new `[asg]` settings.
    ///   - context: Lookups for them (a new `[asg] endpoint`).
    package func reconfigure(settings: AutoScalingSettings, context: LifecycleContext) {
        self.settings = settings
        self.context = context
    }

    // MARK: - The service

    /// Takes up the actions a previous run left pending, then runs each action (``perform(_:)``) in a child task
    /// until shutdown. At shutdown the actions in progress are cancelled, each left pending in the state directory
    /// for the next start: a stop never waits on retries.
    package func run() async throws {
        if settings.isEnabled {
            // The start-up lookup (DescribeAutoScalingInstances) may hang or retry: a SIGTERM ends it at once.
            await cancelWhenGracefulShutdown { [context, settings, dryRun] in
                await context.logReadiness(settings: settings, allowAPI: !dryRun)
            }
        }
        resumePending()
        stage = .running
        await withDiscardingTaskGroup { group in
            for await eventID in queue.cancelOnGracefulShutdown() {
                group.addTask { await self.perform(eventID) }
            }
            // From here a hook sequence that ends gets its one completion attempt in sequenceEnded.
            stage = .stopped
            group.cancelAll()
        }
        active.removeAll()
        settle()
    }

    /// Says which events' hook sequences the hook dispatcher resumed after a restart (their hooks had not all run
    /// to the end): their pending actions get heartbeats again and are completed when those hooks end, with their
    /// result. Call before ``run()``.
    package func hooksResumed(eventIDs: Set<String>) {
        loadOnce()
        for action in actions
        where action.phase == .hooksRunning && inherited.contains(action.eventID) && eventIDs.contains(action.eventID) {
            inherited.remove(action.eventID)
            logger.notice(
                "the hooks of a pending lifecycle action (\(action.label)) run again after the restart: heartbeats resume, completion when they end"
            )
        }
    }

    /// Queues every action the state directory holds pending for ``run()`` (``run()`` does it at start): those whose
    /// hooks had ended are completed with the recorded result, those whose hooks were cut short and are not resumed
    /// with `on_hook_failure`, those whose hooks were resumed when the hooks end.
    package func resumePending() {
        loadOnce()
        for action in actions where !action.phase.isFinal { enqueue(action.eventID) }
    }

    /// Waits until no action is in progress other than those waiting for their hooks (tests).
    package func completionsSettled() async {
        if isSettled { return }
        await withCheckedContinuation { settledWaiters.append($0) }
    }

    // MARK: - The journal's stage

    /// Enriches the event and records its lifecycle action, then hands it to `downstream`.
    package func deliver(_ event: Event) async {
        guard let enriched = await take(event) else { return }
        await downstream.deliver(enriched)
    }

    /// The lifecycle stage of the event journal: for an `asg-lifecycle-state` event, looks the group up (the
    /// network call happens here, after the event is durable in the journal; 5 attempts, the hooks wait for it),
    /// adds `group` and `lifecycle_hook` and records the pending action in `lifecycle-actions.json` (with the group
    /// still unknown when the lookup failed: it is retried with the completion); other events pass unchanged.
    /// - Returns: The event as the hooks and webhooks get it, or `nil` when shutdown interrupted the lookup (the
    ///   journal offers the event again at the next start).
    package func take(_ event: Event) async -> Event? {
        guard event.type == .asgLifecycleState else { return event }
        var logger = logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        let hook = settings.hook(forState: Self.targetState(of: event))
        let group = await context.group(
            settings: settings, instance: event.instance, allowAPI: hook != nil && !dryRun, logger: logger)
        if Task.isCancelled {
            logger.notice(
                "shutting down during the Auto Scaling group lookup: the event stays pending for the next start")
            return nil
        }
        let enriched = Self.enriched(event, group: group, hook: group == nil ? nil : hook)
        if let hook { await begin(event: enriched, hook: hook, group: group, logger: logger) }
        return enriched
    }

    /// Called by the ``HookDispatcher`` when an event's hooks have ended: records the result (`on_hook_failure` when
    /// a hook failed) and lets the action's function go on to the completion; hooks cut short by shutdown leave the
    /// action pending for the next run. After ``run()`` ended (stopping) the completion gets one attempt here.
    package func sequenceEnded(_ event: Event, results: [HookResult]) async {
        loadOnce()
        guard let index = actions.firstIndex(where: { $0.eventID == event.id && $0.phase == .hooksRunning }) else {
            if dryRun, event.type == .asgLifecycleState, let pending = dryRunTargets.removeValue(forKey: event.id) {
                let body = AutoScalingClient.formBody(
                    Call.complete.rawValue,
                    [
                        ("AutoScalingGroupName", pending.group), ("LifecycleHookName", pending.hook),
                        ("InstanceId", pending.instanceID),
                        ("LifecycleActionResult", LifecycleActionResult.continue.rawValue),
                    ])
                logger.notice("dry run: would send CompleteLifecycleAction: \(body)")
                record(.complete, .dryRun)
            }
            return
        }
        if results.contains(where: \.stoppedAtShutdown) || Task.isCancelled {
            logger.notice(
                "shutting down with hooks cut short: lifecycle action (\(actions[index].label)) left pending for the next run"
            )
            hookEnds.end(event.id, with: .cutShort, keep: active.contains(event.id))
            return
        }
        let failed = results.filter { !$0.succeeded }
        let result: LifecycleActionResult = failed.isEmpty ? .continue : settings.onHookFailure
        if !failed.isEmpty {
            logger.warning(
                "hooks failed (\(failed.map(\.hook).joined(separator: ", "))): completing with \(result.rawValue) (on_hook_failure)"
            )
        }
        actions[index].phase = .hooksDone
        actions[index].result = result
        persist()
        inherited.remove(event.id)
        switch stage {
        case .running, .notStarted:
            if active.contains(event.id) {
                // Its wait is over from now: the action is busy again (``completionsSettled()``).
                waitingForHooks.remove(event.id)
                hookEnds.end(event.id, with: .ended(result), keep: true)
            } else {
                enqueue(event.id)
            }
        case .stopped:
            // The service has stopped (shutdown): one attempt, no retries; unconfirmed, it stays pending.
            await attemptCompletion(event.id, result: result, persistence: .once)
        }
    }

    // MARK: - One action

    /// One lifecycle action from its record to its end: while the event's hooks run, heartbeats in a child task;
    /// then the completion (group lookup included when it is still owed), with the heartbeats going on until it ends.
    /// Cancelled at shutdown: the action stays pending in the state directory.
    func perform(_ eventID: String) async {
        defer { ended(eventID) }
        guard let action = current(eventID), !action.phase.isFinal else { return }
        let result: LifecycleActionResult
        switch action.phase {
        case .hooksRunning where inherited.contains(eventID):
            inherited.remove(eventID)
            logger.notice(
                "completing the lifecycle action left pending by the previous run (\(action.label), hooks were cut short and are not run again)"
            )
            result = settings.onHookFailure
            record(eventID, result: result)
        case .hooksRunning:
            waitingForHooks.insert(eventID)
            settle()
            let outcome = await heartbeating(eventID) { [hookEnds] in await hookEnds.wait(for: eventID) }
            waitingForHooks.remove(eventID)
            guard case .ended(let ended) = outcome else {
                if outcome == .cancelled {
                    logger.notice(
                        "shutting down while the hooks run: lifecycle action (\(action.label)) left pending for the next start"
                    )
                }
                return
            }
            result = ended
        default:
            if action.recordedAt < startedAt {
                logger.notice(
                    "completing the lifecycle action left pending by the previous run (\(action.label), hooks had ended)"
                )
            }
            result = action.result ?? settings.onHookFailure
        }
        await heartbeating(eventID) {
            await self.attemptCompletion(
                eventID, result: result, persistence: .until({ await self.completionDeadline(eventID) }))
        }
    }

    /// Runs `body` with the action's heartbeats in a child task (every `heartbeat_interval`; none when it is 0),
    /// which ends with it.
    private func heartbeating<T: Sendable>(_ eventID: String, while body: @Sendable @escaping () async -> T) async -> T
    {
        await withTaskGroup(of: Void.self, returning: T.self) { group in
            if settings.heartbeatInterval > .zero, !dryRun {
                group.addTask { await self.sendHeartbeats(eventID) }
            }
            let value = await body()
            group.cancelAll()
            return value
        }
    }

    private func sendHeartbeats(_ eventID: String) async {
        while !Task.isCancelled {
            do { try await sleep(settings.heartbeatInterval) } catch { return }
            if Task.isCancelled { return }
            guard await heartbeat(eventID: eventID) else { return }
        }
    }

    // MARK: - Steps

    private func begin(event: Event, hook: String, group: String?, logger: Logger) async {
        loadOnce()
        if actions.contains(where: { $0.eventID == event.id }) {
            logger.notice("lifecycle action for this event already recorded: not started again")
            return
        }
        guard let instanceID = await context.instanceID(event.instance),
            let region = await context.region(event.instance)
        else {
            logger.error("cannot complete lifecycle hook \(hook): \(context.missingRegionOrInstance)")
            return
        }
        let target = group.map { LifecycleActionTarget(group: $0, hook: hook, instanceID: instanceID) }
        if dryRun {
            guard let target else {
                let reason = await context.groupUnknownReason
                logger.error("cannot complete lifecycle hook \(hook): \(reason)")
                return
            }
            dryRunTargets[event.id] = target
            let every =
                settings.heartbeatInterval > .zero
                ? "every \(settings.heartbeatInterval) while the hooks run" : "never (heartbeat_interval = 0)"
            logger.notice(
                "dry run: would send RecordLifecycleActionHeartbeat \(every): \(AutoScalingClient.formBody(Call.heartbeat.rawValue, [("AutoScalingGroupName", target.group), ("LifecycleHookName", hook), ("InstanceId", instanceID)]))"
            )
            record(.heartbeat, .dryRun)
            return
        }
        if target == nil {
            let reason = await context.groupUnknownReason
            logger.error(
                "cannot complete lifecycle hook \(hook) yet: \(reason); the hooks run now, and the lookup is retried with the completion until the hook's timeout"
            )
        }
        let action = PendingLifecycleAction(
            eventID: event.id, target: target,
            groupLookup: target == nil ? .init(hook: hook, instanceID: instanceID) : nil,
            region: region, phase: .hooksRunning, result: nil, recordedAt: context.nowMilliseconds()
        )
        actions.append(action)
        persist()
        logger.info(
            "lifecycle action recorded (\(action.label)): heartbeats every \(settings.heartbeatInterval) while the hooks run, then CompleteLifecycleAction"
        )
        enqueue(event.id)
    }

    /// Records that the action's hooks ended with `result`.
    private func record(_ eventID: String, result: LifecycleActionResult) {
        guard let index = actions.firstIndex(where: { $0.eventID == eventID }) else { return }
        actions[index].phase = .hooksDone
        actions[index].result = result
        persist()
    }

    // MARK: - Bookkeeping

    /// When this run loaded the file (older records are a previous run's).
    private var startedAt: Int64 = 0

    private func enqueue(_ eventID: String) {
        guard stage != .stopped, active.insert(eventID).inserted else { return }
        queueInput.yield(eventID)
    }

    private func ended(_ eventID: String) {
        hookEnds.discard(eventID)
        active.remove(eventID)
        settle()
    }

    private var isSettled: Bool { active.isSubset(of: waitingForHooks) }

    private func settle() {
        guard isSettled else { return }
        let waiters = settledWaiters
        settledWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Counts a call's outcome: `imdswatch_lifecycle_actions_total{action,result}` (dry runs are not calls). The one
    /// place where each outcome is known.
    func record(_ call: Call, _ outcome: Outcome) {
        guard outcome != .dryRun else { return }
        telemetry.recordLifecycleAction(call.metricLabel, succeeded: outcome == .ok)
    }

    func current(_ eventID: String) -> PendingLifecycleAction? {
        actions.first { $0.eventID == eventID }
    }

    func markFinal(_ eventID: String, _ phase: PendingLifecycleAction.Phase) {
        guard let index = actions.firstIndex(where: { $0.eventID == eventID }), !actions[index].phase.isFinal else {
            return
        }
        actions[index].phase = phase
        persist()
    }

    private func loadOnce() {
        guard !loaded else { return }
        loaded = true
        startedAt = context.nowMilliseconds()
        let loaded = store.loadKeeping(nowMilliseconds: startedAt)
        actions = loaded.actions
        if let problem = loaded.problem { logger.error("\(problem)") }
        inherited = Set(actions.filter { $0.phase == .hooksRunning }.map(\.eventID))
    }

    func persist() {
        do { try store.save(actions, nowMilliseconds: context.nowMilliseconds()) } catch {
            logger.error("\(error): a restart now would not complete the lifecycle action")
        }
    }
}

extension LifecycleActions: JournalConsumer {
    /// The stage's name in the journal's acknowledgements; the hooks and webhooks name it as their upstream.
    package static let journalName = "lifecycle"

    package nonisolated var name: String { Self.journalName }

    /// Only `asg-lifecycle-state` events.
    package nonisolated func handles(_ event: Event) -> Bool { event.type == .asgLifecycleState }
}
