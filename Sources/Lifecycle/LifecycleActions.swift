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

    private let settings: Settings.AutoScaling
    private let dryRun: Bool
    private let downstream: any EventSink
    private let context: LifecycleContext
    private let store: LifecycleActionStore
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger
    private let outcomeObserver: OutcomeObserver
    private var actions: [PendingLifecycleAction] = []
    private var loaded = false
    private var heartbeats: [String: Task<Void, Never>] = [:]
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

    /// Completes the actions left pending by a previous run, then waits for shutdown.
    public func run() async throws {
        if settings.isEnabled { await context.logReadiness(settings: settings, allowAPI: !dryRun) }
        await resumePending()
        try? await gracefulShutdown()
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
        for action in actions where action.phase != .completed && inherited.contains(action.eventID) {
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
            logger.error("cannot complete lifecycle hook \(hook): the Auto Scaling group is unknown (set [asg] group)")
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
            return true
        } catch {
            // Cancelled because the hooks ended: not a failure worth a line.
            if Task.isCancelled { return false }
            return report(error, call: .heartbeat, action: action) == .failed
        }
    }

    private func complete(_ eventID: String, result: LifecycleActionResult) async {
        var attempt = 0
        while let action = actions.first(where: { $0.eventID == eventID }), action.phase != .completed {
            attempt += 1
            do {
                try await context.client(region: action.region).complete(action.target, result: result)
                logger.notice(
                    "lifecycle action completed with \(result.rawValue) (\(action.target))",
                    metadata: [LogField.lifecycleActionResult: .string(result.rawValue)]
                )
                outcomeObserver(.complete, .ok)
                markCompleted(eventID)
                return
            } catch {
                let outcome = report(error, call: .complete, action: action)
                guard outcome == .failed, error.isRetryable || error.code == .transport, attempt < 10 else {
                    if outcome != .failed || attempt >= 10 { markCompleted(eventID) }
                    return
                }
                do { try await sleep(.seconds(30)) } catch { return }
            }
        }
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
            markCompleted(action.eventID)
        default:
            outcome = .failed
            logger.warning("\(error)")
        }
        outcomeObserver(call, outcome)
        return outcome
    }

    private func markCompleted(_ eventID: String) {
        guard let index = actions.firstIndex(where: { $0.eventID == eventID }) else { return }
        actions[index].phase = .completed
        heartbeats.removeValue(forKey: eventID)?.cancel()
        persist()
    }

    private func loadOnce() {
        guard !loaded else { return }
        loaded = true
        do { actions = try store.load() } catch { logger.error("\(error): pending lifecycle actions unknown") }
        inherited = Set(actions.filter { $0.phase != .completed }.map(\.eventID))
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
