import Synchronization

/// A one-shot signal between tasks of a test: ``fire()`` resumes every ``wait()``, before or after it (a
/// continuation each, no polling, no real-time bound).
package final class Latch: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// An unfired latch.
    package init() {}

    /// Whether ``fire()`` was called.
    package var isFired: Bool { state.withLock { $0.fired } }

    /// Fires the latch: every waiter resumes, and later waits return at once.
    package func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until the latch is fired.
    /// - Returns: True once it is; false when the waiting task was cancelled first (a test's time limit).
    @discardableResult
    package func wait() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resume: Bool? = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return false }
                    if state.fired { return true }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resume { continuation.resume(returning: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiters.removeValue(forKey: id)
                if waiter == nil, !state.fired { state.cancelled.insert(id) }
                return waiter
            }
            waiter?.resume(returning: false)
        }
    }
}

/// Waits until the first of `signals` returns, then cancels the others (each must return when cancelled, as
/// ``Latch/wait()`` and ``ManualClock/waitForSleepers(_:)`` do).
/// - Parameter signals: What to wait for.
package func firstOf(_ signals: (@Sendable () async -> Void)...) async {
    await withTaskGroup(of: Void.self) { group in
        for signal in signals { group.addTask { await signal() } }
        await group.next()
        group.cancelAll()
    }
}
