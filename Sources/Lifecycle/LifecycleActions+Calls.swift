import AWS
import Events
import Logging

/// The Auto Scaling calls of one action: the group lookup when it is still owed, heartbeats, the completion.
extension LifecycleActions {
    /// The action's target, looking the group up first when it is still unknown (`persistence` as the calling
    /// step's: the completion's retries, or one attempt for a heartbeat). Records the group once found.
    /// - Returns: `nil` when the group is still unknown (the lookup failed, or was cancelled).
    func resolvedTarget(_ eventID: String, persistence: AutoScalingClient.Persistence) async -> LifecycleActionTarget? {
        guard let action = current(eventID) else { return nil }
        if let target = action.target { return target }
        guard let lookup = action.groupLookup else { return nil }
        let instance = InstanceInfo(
            instanceID: lookup.instanceID, instanceType: "", region: action.region, availabilityZone: "", accountID: "")
        guard
            let group = await context.group(
                settings: settings, instance: instance, allowAPI: true, persistence: persistence, logger: logger),
            let index = actions.firstIndex(where: { $0.eventID == eventID })
        else { return nil }
        let target = LifecycleActionTarget(group: group, hook: lookup.hook, instanceID: lookup.instanceID)
        actions[index].target = target
        actions[index].groupLookup = nil
        persist()
        logger.notice("the Auto Scaling group is known now: lifecycle action \(target)")
        return target
    }

    /// Sends one heartbeat (the group is looked up once first when still unknown); `false` stops the heartbeats
    /// (permission missing, action gone or final).
    func heartbeat(eventID: String) async -> Bool {
        guard let action = current(eventID), !action.phase.isFinal else { return false }
        guard let target = await resolvedTarget(eventID, persistence: .once) else { return !Task.isCancelled }
        do {
            try await context.client(region: action.region).recordHeartbeat(target)
            logger.info("lifecycle action heartbeat sent (\(target))")
            record(.heartbeat, .ok)
            if let index = actions.firstIndex(where: { $0.eventID == eventID }) {
                actions[index].lastHeartbeatAt = context.nowMilliseconds()
                persist()
            }
            return true
        } catch {
            // Cancelled because the hooks or the completion ended: not a failure worth a line.
            if Task.isCancelled { return false }
            return report(error, call: .heartbeat, action: action) == .failed
        }
    }

    /// Looks the group up when still owed, then sends `CompleteLifecycleAction`, both retried with the client's
    /// backoff for as long as `persistence` says (``completionDeadline(_:)``: until the hook's timeout has certainly
    /// passed); confirmed or gone, the action is final. Cancelled (shutdown), it stays pending for the next start.
    func attemptCompletion(_ eventID: String, result: LifecycleActionResult, persistence: AutoScalingClient.Persistence)
        async
    {
        guard let action = current(eventID), !action.phase.isFinal else { return }
        guard let target = await resolvedTarget(eventID, persistence: persistence) else {
            await groupStillUnknown(eventID, persistence: persistence)
            return
        }
        do {
            try await context.client(region: action.region).complete(target, result: result, persistence: persistence)
            logger.notice(
                "lifecycle action completed with \(result.rawValue) (\(target))",
                metadata: [LogField.lifecycleActionResult: .string(result.rawValue)]
            )
            record(.complete, .ok)
            markFinal(eventID, .completed)
        } catch {
            if Task.isCancelled || (persistence.isOnce && error.isRetryable) {
                logger.notice(
                    "shutting down: CompleteLifecycleAction (\(target)) not confirmed (\(error.awsCode ?? error.code.rawValue)): left pending for the next start"
                )
                return
            }
            let current = current(eventID) ?? action
            switch error.code {
            case .accessDenied, .noActiveLifecycleAction:
                if report(error, call: .complete, action: current) == .denied { markFinal(eventID, .gaveUp) }
            case _ where error.isRetryable:
                // The deadline came: the service has timed the action out by now, whatever the last answer was.
                record(.complete, .failed)
                logger.error(
                    "giving up CompleteLifecycleAction (\(target)) after retrying until the hook's heartbeat timeout (\(timeoutText(current))) had certainly passed (last: \(error)): the group applies \(current.defaultResult ?? "its DefaultResult") at HeartbeatTimeout"
                )
                markFinal(eventID, .gaveUp)
            default:
                record(.complete, .failed)
                let hint = error.isCredentialsProblem ? " (check the AWS credentials)" : ""
                logger.error(
                    "\(error)\(hint): lifecycle action (\(target)) left pending: the next start tries again, else the group applies \(current.defaultResult ?? "its DefaultResult") at HeartbeatTimeout"
                )
            }
        }
    }

    /// The completion's group lookup failed: pending for the next start when cancelled, when it had one attempt
    /// (stopping) or when the credentials were rejected (they may be fixed); else given up (retried until the hook's
    /// timeout had certainly passed, the permission missing, or the instance in no group).
    private func groupStillUnknown(_ eventID: String, persistence: AutoScalingClient.Persistence) async {
        guard let action = current(eventID), !action.phase.isFinal else { return }
        if Task.isCancelled {
            logger.notice(
                "shutting down during the Auto Scaling group lookup: lifecycle action (\(action.label)) left pending for the next start"
            )
            return
        }
        let failure = await context.lastLookupFailure
        let reason = await context.groupUnknownReason
        record(.complete, .failed)
        if failure?.isCredentialsProblem == true || (persistence.isOnce && failure?.isRetryable == true) {
            logger.error(
                "cannot complete lifecycle action (\(action.label)): \(reason): left pending: the next start tries again, else the group applies \(action.defaultResult ?? "its DefaultResult") at HeartbeatTimeout"
            )
            return
        }
        logger.error(
            "giving up the lifecycle action (\(action.label)): \(reason) (looked up until the hook's heartbeat timeout (\(timeoutText(action))) had certainly passed, or the answer was final): the group applies its DefaultResult at HeartbeatTimeout"
        )
        markFinal(eventID, .gaveUp)
    }

    /// When the action has certainly timed out at the service (Unix seconds): its last confirmed heartbeat, or when it
    /// was recorded (the action started before that), plus the hook's `HeartbeatTimeout`: read once with
    /// `DescribeLifecycleHooks` once the group is known, else ``PendingLifecycleAction/longestHeartbeatTimeout``.
    func completionDeadline(_ eventID: String) async -> Int64 {
        guard let action = current(eventID) else { return 0 }
        if action.heartbeatTimeoutSeconds == nil, let target = action.target, timeoutAsked.insert(eventID).inserted,
            let described = await context.hookDescription(target, region: action.region),
            let index = actions.firstIndex(where: { $0.eventID == eventID })
        {
            actions[index].heartbeatTimeoutSeconds = described.heartbeatTimeoutSeconds
            actions[index].defaultResult = described.defaultResult
            persist()
        }
        return current(eventID)?.certainTimeoutSeconds ?? 0
    }

    private func timeoutText(_ action: PendingLifecycleAction) -> String {
        action.heartbeatTimeoutSeconds.map { "\($0) s" }
            ?? "unknown: at most \(PendingLifecycleAction.longestHeartbeatTimeout) s"
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
            if call == .complete {
                logger.error(
                    "lifecycle action not completed (\(action.label)): the group applies its default result at the heartbeat timeout"
                )
            }
        case .noActiveLifecycleAction:
            outcome = .gone
            logger.warning(
                "no active lifecycle action (\(action.label)): already completed or timed out; not sending more")
            markFinal(action.eventID, .completed)
        default:
            outcome = .failed
            logger.warning("\(error)")
        }
        record(call, outcome)
        return outcome
    }
}

extension AutoScalingClient.Persistence {
    /// Whether it is ``once`` (a completion at shutdown: unconfirmed, the action stays pending).
    var isOnce: Bool {
        if case .once = self { return true }
        return false
    }
}
