import Events
import Logging
import Synchronization

extension HookDispatcher {
    /// Runs what an earlier run left unfinished (the daemon was killed or stopped while hooks ran or waited): for
    /// each recorded event, the hooks that did not run to the end, in order (a hook that was running when the daemon
    /// died runs again). An event whose deadline (`IMDSWATCH_DEADLINE`) has passed is skipped and its record removed;
    /// both are logged. Call once at start, before the poll loop delivers events.
    /// - Parameter nowMilliseconds: The wall-clock time, to judge deadlines.
    /// - Returns: The ids of the events whose sequences were resumed.
    @discardableResult
    package func resumePending(nowMilliseconds: Int64) async -> [String] {
        guard let pending, !configuration.dryRun else { return [] }
        var resumed: [String] = []
        for record in await pending.load() {
            let event = record.event
            handledAtStart.insert(event.id)
            let metadata: Logger.Metadata = [
                LogField.eventType: .string(event.type.rawValue), LogField.eventID: .string(event.id),
            ]
            if let deadline = event.deadlineMilliseconds, deadline <= nowMilliseconds {
                logger.warning(
                    "not resuming the hooks of this event after the restart: its deadline \(event.deadline?.rfc3339 ?? "") has passed",
                    metadata: metadata
                )
                await pending.finish(eventID: event.id)
                continue
            }
            logger.notice(
                "resuming the hooks of this event after a restart (\(record.done.count) had run to the end)",
                metadata: metadata
            )
            resumedDone[event.id] = record.done
            admit(event, logger: logger)
            resumed.append(event.id)
        }
        return resumed
    }
}

/// One sequence's progress: which hooks to skip (they ran before a restart) and, after each hook, the durable note.
final class SequenceProgress: Sendable {
    private let pending: PendingHookSequences?
    private let done: Set<String>
    private let remainingHooks = Mutex<[Hook]>([])

    init(pending: PendingHookSequences?, done: Set<String>) {
        self.pending = pending
        self.done = done
    }

    /// `hooks` without those that already ran before a restart.
    func remaining(_ hooks: [Hook], logger: Logger) -> [Hook] {
        let rest = hooks.filter { !done.contains($0.relativePath) }
        if rest.count < hooks.count {
            let skipped = hooks.filter { done.contains($0.relativePath) }.map(\.relativePath).joined(separator: ", ")
            logger.notice("already ran before the restart, not run again: \(skipped)")
        }
        remainingHooks.withLock { $0 = rest }
        return rest
    }

    /// Notes a hook that ended (unless it was stopped by shutdown: then it runs again after the restart).
    func ended(_ result: HookResult, of hooks: [Hook], event: Event) async {
        guard !result.stoppedAtShutdown else { return }
        let hook = remainingHooks.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        if let hook, let pending { await pending.markDone(eventID: event.id, hook: hook.relativePath) }
    }

    /// Removes the record when every hook ran to the end.
    func finished(_ event: Event, ran results: [HookResult], of hooks: [Hook]) async {
        guard let pending, results.count == hooks.count, !results.contains(where: \.stoppedAtShutdown) else { return }
        await pending.finish(eventID: event.id)
    }
}
