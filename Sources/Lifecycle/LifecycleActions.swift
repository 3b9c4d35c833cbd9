public import AWS
public import Config
public import Events
public import Hooks
public import Logging
import ServiceLifecycle
public import Durability

/// Completes the instance's Auto Scaling lifecycle actions around the hooks of `asg-lifecycle-state` events.
///
/// Sits in front of the other sinks: it adds `group` and `lifecycle_hook` to the event's data, records a pending
/// action in the state directory before handing the event on (so before any hook starts), sends
/// `RecordLifecycleActionHeartbeat` every `heartbeat_interval` while the hooks run, then one
/// `CompleteLifecycleAction` when the ``HookDispatcher`` reports the sequence ended. As a `Service` it first
/// completes the actions a previous run left pending (their hooks are not run again).
public actor LifecycleActions: EventSink, Service {
    /// A call to the Auto Scaling API, for outcome reporting.
    public enum Call: String, Sendable {
        /// `RecordLifecycleActionHeartbeat`.
        case heartbeat = "RecordLifecycleActionHeartbeat"
        /// `CompleteLifecycleAction`.
        case complete = "CompleteLifecycleAction"
    }

    /// How a call ended: `ok`, `failed` (after retries), `denied` (IAM), `gone` (no active action), `dry_run`.
    public enum Outcome: String, Sendable {
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

    /// Told of every heartbeat and completion outcome: the one place where each is known (metrics:
    /// `imdswatch_lifecycle_actions_total{action,result}` with `action` = the call, `result` = the outcome).
    public typealias OutcomeObserver = @Sendable (Call, Outcome) -> Void

    private var settings: Settings.AutoScaling
    private let dryRun: Bool
    private let downstream: any EventSink
    private var context: LifecycleContext
    private let store: LifecycleActionStore
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger
    private let outcomeObserver: OutcomeObserver
    private var actions: [PendingLifecycleAction] = []
    private var loaded = false
    private var heartbeats: [String: Task<Void, Never>] = [:]
    /// The completion in progress of each action (retrying in the background, never holding the hook sequence).
    private var completions: [String: Task<Void, Never>] = [:]
    /// Set at shutdown: completions still running were cancelled (their actions stay pending for the next start),
    /// and a completion asked for now gets one attempt, no retries.
    private var stopping = false
    /// Whether the hook's timeout was asked of `DescribeLifecycleHooks` for an action in this run.
    private var timeoutAsked: Set<String> = []
    private var deniedReported: Set<String> = []
    private var dryRunTargets: [String: LifecycleActionTarget] = [:]
    /// Actions a previous run left pending (read from the file), as opposed to those this run started.
    private var inherited: Set<String> = []

    /// Creates the component.
    /// - Parameters:
    ///   - settings: The `[asg]` settings.
    ///   - dryRun: Send nothing; log what would be sent.
    ///   - downstream: Where events go next (the hooks and webhooks).
    ///   - context: Group, region, instance and API client lookups.
    ///   - stateDirectory: Where pending actions are recorded.
    ///   - sleep: Waits between heartbeats and between completion retries (a clock's `sleep(for:)`).
    ///   - logger: Receives every heartbeat and completion line.
    ///   - outcomeObserver: Told of each call's outcome.
    public init(
        settings: Settings.AutoScaling, dryRun: Bool, downstream: any EventSink, context: LifecycleContext,
        stateDirectory: String, sleep: @escaping @Sendable (Duration) async throws -> Void, logger: Logger,
        outcomeObserver: @escaping OutcomeObserver = { _, _ in }
    ) {
        self.settings = settings
        self.dryRun = dryRun
        self.downstream = downstream
        self.context = context
        self.store = LifecycleActionStore(directory: stateDirectory)
        self.sleep = sleep
        self.logger = logger
        self.outcomeObserver = outcomeObserver
    }

    /// Takes new `[asg]` settings (a reload): events from now on use them; actions already recorded keep their
    /// target, heartbeats and completions in progress go on as they are.
    /// - Parameters:
    ///   - settings: The new `[asg]` settings.
    ///   - context: Lookups for them (a new `[asg] endpoint`).
    public func reconfigure(settings: Settings.AutoScaling, context: LifecycleContext) {
        self.settings = settings
        self.context = context
    }

    /// Completes the actions left pending by a previous run, then waits for shutdown. At shutdown the completions
    /// still retrying are cancelled (their actions stay pending for the next start): a stop never waits on retries.
    public func run() async throws {
        if settings.isEnabled {
            // The start-up lookup (DescribeAutoScalingInstances) may hang or retry: a SIGTERM ends it at once.
            await cancelWhenGracefulShutdown { [context, settings, dryRun] in
                await context.logReadiness(settings: settings, allowAPI: !dryRun)
            }
        }
        if !Task.isCancelled && !Task.isShuttingDownGracefully { await resumePending() }
        try? await gracefulShutdown()
        await stop()
    }

    /// Cancels the completions still retrying (and their heartbeats) and waits for them to end; later completions get
    /// one attempt each. Their actions stay pending in the state directory for the next start.
    public func stop() async {
        stopping = true
        let running = completions
        for (eventID, task) in running {
            task.cancel()
            if actions.first(where: { $0.eventID == eventID })?.phase != .hooksRunning {
                heartbeats.removeValue(forKey: eventID)?.cancel()
            }
        }
        for task in running.values { await task.value }
    }

    /// Waits until every completion started so far has ended (confirmed, gone, given up or cancelled).
    public func completionsSettled() async {
        while let task = completions.values.first {
            await task.value
        }
    }

    /// Says which events' hook sequences the hook dispatcher resumed after a restart (their hooks had not all run
    /// to the end): their pending actions get heartbeats again and are completed when those hooks end
    /// (``sequenceEnded(_:results:)``), not by ``resumePending()``. Call before ``run()``.
    public func hooksResumed(eventIDs: Set<String>) {
        loadOnce()
        for action in actions where action.phase == .hooksRunning && inherited.contains(action.eventID) && eventIDs.contains(action.eventID) {
            inherited.remove(action.eventID)
            logger.notice("the hooks of a pending lifecycle action (\(action.target)) run again after the restart: heartbeats resume, completion when they end")
            startHeartbeats(eventID: action.eventID)
        }
    }

    /// Completes the actions a previous run recorded but did not complete, except those whose hooks were resumed
    /// (``hooksResumed(eventIDs:)``): with the recorded result when its hooks had ended, else with `on_hook_failure`
    /// (hooks cut short and not resumed count as failed).
    public func resumePending() async {
        loadOnce()
        for action in actions where !action.phase.isFinal && inherited.contains(action.eventID) {
            inherited.remove(action.eventID)
            let result = action.result ?? settings.onHookFailure
            logger.notice("completing the lifecycle action left pending by the previous run (\(action.target), hooks \(action.phase == .hooksDone ? "had ended" : "were cut short and are not run again"))")
            await complete(action.eventID, result: result)
        }
    }

    /// Enriches the event and records its lifecycle action, then hands it to `downstream`.
    public func deliver(_ event: Event) async {
        guard let enriched = await take(event) else { return }
        await downstream.deliver(enriched)
    }

    /// The lifecycle stage of the event journal: for an `asg-lifecycle-state` event, looks the group up (the
    /// network call happens here, after the event is durable in the journal), adds `group` and `lifecycle_hook`
    /// and records the pending action in `lifecycle-actions.json`; other events pass unchanged.
    /// - Returns: The event as the hooks and webhooks get it, or `nil` when shutdown interrupted the lookup (the
    ///   journal offers the event again at the next start).
    public func take(_ event: Event) async -> Event? {
        guard event.type == .asgLifecycleState else { return event }
        var logger = logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        let state = event.data["state"]?.stringValue ?? ""
        let hook = settings.hook(forState: state)
        let group = await context.group(settings: settings, instance: event.instance, allowAPI: hook != nil && !dryRun, logger: logger)
        if Task.isCancelled {
            logger.notice("shutting down during the Auto Scaling group lookup: the event stays pending for the next start")
            return nil
        }
        var enriched = event
        let added: [(String, JSONValue)] = [("group", .string(orNull: group)), ("lifecycle_hook", .string(orNull: group == nil ? nil : hook))]
        enriched.data = Self.adding(added, to: event.data)
        if let hook, let group {
            await begin(event: enriched, hook: hook, group: group, logger: logger)
        } else if let hook {
            let reason = await context.groupUnknownReason
            logger.error("cannot complete lifecycle hook \(hook): \(reason)")
        }
        return enriched
    }

    /// Called by the ``HookDispatcher`` when an event's hooks have ended: stops the heartbeats and completes the
    /// action (unless the hooks were cut short by shutdown: then the action stays pending for the next run).
    public func sequenceEnded(_ event: Event, results: [HookResult]) async {
        loadOnce()
        guard let index = actions.firstIndex(where: { $0.eventID == event.id && $0.phase == .hooksRunning }) else {
            if dryRun, event.type == .asgLifecycleState, let pending = dryRunTargets.removeValue(forKey: event.id) {
                let body = AutoScalingClient.formBody(Call.complete.rawValue, [("AutoScalingGroupName", pending.group), ("LifecycleHookName", pending.hook), ("InstanceId", pending.instanceID), ("LifecycleActionResult", LifecycleActionResult.continue.rawValue)])
                logger.notice("dry run: would send CompleteLifecycleAction: \(body)")
                outcomeObserver(.complete, .dryRun)
            }
            return
        }
        inherited.remove(event.id)
        if let task = heartbeats.removeValue(forKey: event.id) {
            task.cancel()
            await task.value
        }
        if results.contains(where: \.stoppedAtShutdown) || Task.isCancelled {
            logger.notice("shutting down with hooks cut short: lifecycle action (\(actions[index].target)) left pending for the next run")
            return
        }
        let failed = results.filter { !$0.succeeded }
        let result: LifecycleActionResult = failed.isEmpty ? .continue : settings.onHookFailure
        if !failed.isEmpty {
            logger.warning("hooks failed (\(failed.map(\.hook).joined(separator: ", "))): completing with \(result.rawValue) (on_hook_failure)")
        }
        actions[index].phase = .hooksDone
        actions[index].result = result
        persist()
        await complete(event.id, result: result)
    }

    // MARK: - Steps

    private func begin(event: Event, hook: String, group: String, logger: Logger) async {
        loadOnce()
        if actions.contains(where: { $0.eventID == event.id }) {
            logger.notice("lifecycle action for this event already recorded: not started again")
            return
        }
        guard let instanceID = await context.instanceID(event.instance), let region = await context.region(event.instance) else {
            logger.error("cannot complete lifecycle hook \(hook): \(context.missingRegionOrInstance)")
            return
        }
        let target = LifecycleActionTarget(group: group, hook: hook, instanceID: instanceID)
        if dryRun {
            dryRunTargets[event.id] = target
            let every = settings.heartbeatInterval > .zero ? "every \(settings.heartbeatInterval) while the hooks run" : "never (heartbeat_interval = 0)"
            logger.notice("dry run: would send RecordLifecycleActionHeartbeat \(every): \(AutoScalingClient.formBody(Call.heartbeat.rawValue, [("AutoScalingGroupName", group), ("LifecycleHookName", hook), ("InstanceId", instanceID)]))")
            outcomeObserver(.heartbeat, .dryRun)
            return
        }
        actions.append(PendingLifecycleAction(
            eventID: event.id, target: target, region: region, phase: .hooksRunning, result: nil,
            recordedAt: context.nowMilliseconds()
        ))
        persist()
        logger.info("lifecycle action recorded (\(target)): heartbeats every \(settings.heartbeatInterval) while the hooks run, then CompleteLifecycleAction")
        startHeartbeats(eventID: event.id)
    }

    /// Sends heartbeats every `heartbeat_interval` until the action's hooks end (none when the interval is 0).
    private func startHeartbeats(eventID: String) {
        guard settings.heartbeatInterval > .zero, !dryRun, heartbeats[eventID] == nil else { return }
        let (interval, sleep) = (settings.heartbeatInterval, self.sleep)
        heartbeats[eventID] = Task {
            while !Task.isCancelled {
                do { try await sleep(interval) } catch { return }
                if Task.isCancelled { return }
                guard await self.heartbeat(eventID: eventID) else { return }
            }
        }
    }

    /// Sends one heartbeat; `false` stops the heartbeats (permission missing, action gone).
    private func heartbeat(eventID: String) async -> Bool {
        guard let action = actions.first(where: { $0.eventID == eventID }) else { return false }
        do {
            try await context.client(region: action.region).recordHeartbeat(action.target)
            logger.info("lifecycle action heartbeat sent (\(action.target))")
            outcomeObserver(.heartbeat, .ok)
            if let index = actions.firstIndex(where: { $0.eventID == eventID }) {
                actions[index].lastHeartbeatAt = context.nowMilliseconds()
                persist()
            }
            return true
        } catch {
            // Cancelled because the hooks ended: not a failure worth a line.
            if Task.isCancelled { return false }
            return report(error, call: .heartbeat, action: action) == .failed
        }
    }

    /// Starts the completion of an action in the background and returns: `CompleteLifecycleAction` is retried with
    /// the client's backoff until it is confirmed, the action is gone, or the hook's timeout has certainly passed
    /// (``completionDeadline(_:)``); heartbeats go on meanwhile. At shutdown it gets one attempt and no retries.
    private func complete(_ eventID: String, result: LifecycleActionResult) async {
        guard completions[eventID] == nil,
              let action = actions.first(where: { $0.eventID == eventID }), !action.phase.isFinal
        else { return }
        if stopping {
            await attemptCompletion(eventID, result: result, persistence: .once)
            return
        }
        completions[eventID] = Task {
            await self.attemptCompletion(eventID, result: result, persistence: .until({ await self.completionDeadline(eventID) }))
            await self.completionEnded(eventID)
        }
    }

    private func completionEnded(_ eventID: String) {
        completions[eventID] = nil
    }

    private func attemptCompletion(_ eventID: String, result: LifecycleActionResult, persistence: AutoScalingClient.Persistence) async {
        guard let action = actions.first(where: { $0.eventID == eventID }), !action.phase.isFinal else { return }
        if !stopping { startHeartbeats(eventID: eventID) }
        do {
            try await context.client(region: action.region).complete(action.target, result: result, persistence: persistence)
            logger.notice(
                "lifecycle action completed with \(result.rawValue) (\(action.target))",
                metadata: [LogField.lifecycleActionResult: .string(result.rawValue)]
            )
            outcomeObserver(.complete, .ok)
            markFinal(eventID, .completed)
        } catch {
            if Task.isCancelled || (stopping && error.isRetryable) {
                logger.notice("shutting down: CompleteLifecycleAction (\(action.target)) not confirmed (\(error.awsCode ?? error.code.rawValue)): left pending for the next start")
                heartbeats.removeValue(forKey: eventID)?.cancel()
                return
            }
            switch error.code {
            case .accessDenied, .noActiveLifecycleAction:
                if report(error, call: .complete, action: action) == .denied { markFinal(eventID, .gaveUp) }
            case _ where error.isRetryable:
                // The deadline came: the service has timed the action out by now, whatever the last answer was.
                outcomeObserver(.complete, .failed)
                let current = actions.first { $0.eventID == eventID } ?? action
                logger.error("giving up CompleteLifecycleAction (\(action.target)) after retrying until the hook's heartbeat timeout (\(timeoutText(current))) had certainly passed (last: \(error)): the group applies \(current.defaultResult ?? "its DefaultResult") at HeartbeatTimeout")
                markFinal(eventID, .gaveUp)
            default:
                outcomeObserver(.complete, .failed)
                let hint = error.isCredentialsProblem ? " (check the AWS credentials)" : ""
                let defaultResult = actions.first { $0.eventID == eventID }?.defaultResult ?? "its DefaultResult"
                logger.error("\(error)\(hint): lifecycle action (\(action.target)) left pending: the next start tries again, else the group applies \(defaultResult) at HeartbeatTimeout")
                heartbeats.removeValue(forKey: eventID)?.cancel()
            }
        }
    }

    /// When the action has certainly timed out at the service (Unix seconds): its last confirmed heartbeat, or when it
    /// was recorded (the action started before that), plus the hook's `HeartbeatTimeout`: read once with
    /// `DescribeLifecycleHooks`, else ``PendingLifecycleAction/longestHeartbeatTimeout`` (the most AWS allows).
    func completionDeadline(_ eventID: String) async -> Int64 {
        guard let action = actions.first(where: { $0.eventID == eventID }) else { return 0 }
        if action.heartbeatTimeoutSeconds == nil, timeoutAsked.insert(eventID).inserted,
           let described = await context.hookDescription(action.target, region: action.region),
           let index = actions.firstIndex(where: { $0.eventID == eventID }) {
            actions[index].heartbeatTimeoutSeconds = described.heartbeatTimeoutSeconds
            actions[index].defaultResult = described.defaultResult
            persist()
        }
        return actions.first { $0.eventID == eventID }?.certainTimeoutSeconds ?? 0
    }

    private func timeoutText(_ action: PendingLifecycleAction) -> String {
        action.heartbeatTimeoutSeconds.map { "\($0) s" } ?? "unknown: at most \(PendingLifecycleAction.longestHeartbeatTimeout) s"
    }

    /// Logs a failed call once in a useful form and reports its outcome.
    private func report(_ error: AutoScalingError, call: Call, action: PendingLifecycleAction) -> Outcome {
        let outcome: Outcome
        switch error.code {
        case .accessDenied:
            outcome = .denied
            if deniedReported.insert(error.missingPermission).inserted {
                logger.error("\(error)")
            }
            if call == .complete { logger.error("lifecycle action not completed (\(action.target)): the group applies its default result at the heartbeat timeout") }
        case .noActiveLifecycleAction:
            outcome = .gone
            logger.warning("no active lifecycle action (\(action.target)): already completed or timed out; not sending more")
            markFinal(action.eventID, .completed)
        default:
            outcome = .failed
            logger.warning("\(error)")
        }
        outcomeObserver(call, outcome)
        return outcome
    }

    private func markFinal(_ eventID: String, _ phase: PendingLifecycleAction.Phase) {
        guard let index = actions.firstIndex(where: { $0.eventID == eventID }), !actions[index].phase.isFinal else { return }
        actions[index].phase = phase
        heartbeats.removeValue(forKey: eventID)?.cancel()
        persist()
    }

    private func loadOnce() {
        guard !loaded else { return }
        loaded = true
        let loaded = store.loadKeeping(nowMilliseconds: context.nowMilliseconds())
        actions = loaded.actions
        if let problem = loaded.problem { logger.error("\(problem)") }
        inherited = Set(actions.filter { !$0.phase.isFinal }.map(\.eventID))
    }

    private func persist() {
        do { try store.save(actions, nowMilliseconds: context.nowMilliseconds()) } catch {
            logger.error("\(error): a restart now would not complete the lifecycle action")
        }
    }

    private static func adding(_ members: [(String, JSONValue)], to data: JSONValue) -> JSONValue {
        guard case .object(var existing) = data else { return data }
        for (key, value) in members {
            if let index = existing.firstIndex(where: { $0.0 == key }) { existing[index].1 = value } else { existing.append((key, value)) }
        }
        return .object(existing)
    }
}

extension LifecycleActions: JournalConsumer {
    /// The stage's name in the journal's acknowledgements; the hooks and webhooks name it as their upstream.
    public static let journalName = "lifecycle"

    public nonisolated var name: String { Self.journalName }

    /// Only `asg-lifecycle-state` events.
    public nonisolated func handles(_ event: Event) -> Bool { event.type == .asgLifecycleState }
}
