import Synchronization

/// Whether the dispatcher is idle (no sequence runs or waits), and the tasks waiting for it to be: they are woken
/// when it becomes idle, never by polling.
final class IdleSignal: Sendable {
    private struct State {
        var idle = true
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Sets whether the dispatcher is idle; becoming idle wakes every waiter.
    func update(isIdle: Bool) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.idle = isIdle
            guard isIdle else { return [] }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Waits until the dispatcher is idle (returns at once when it is); returns early when the calling task is
    /// cancelled.
    func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // The cancellation flag is set before `onCancel` runs: checked under the lock, no wake-up is lost.
                let now = state.withLock { state in
                    if state.idle || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until the dispatcher is idle or `limit` has passed on `clock`.
    /// - Returns: `true` when it became idle in time (`false` too when the calling task is cancelled).
    func wait(upTo limit: Duration, on clock: any Clock<Duration>) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return !Task.isCancelled
            }
            group.addTask {
                try? await clock.sleep(for: limit)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
