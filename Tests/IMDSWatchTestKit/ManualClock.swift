import Synchronization

/// The test clock: time moves only when a test says so, so tests never wait on real time and never race it.
///
/// Sleeping has two behaviours, chosen when the clock is made:
/// - by default a sleeper waits until ``advance(by:)`` moves `now` to its deadline (or its task is cancelled), and
///   ``waitForSleepers(_:)`` lets a test wait until every loop is parked before it looks or advances: for loops whose
///   steps a test drives one by one (the poller, the watchdog, heartbeats);
/// - with `advancesOnSleep`, sleeping moves `now` to the deadline at once: a 2 s retry backoff takes no real time
///   but moves `now` by 2 s, for code that only needs its waits to add up (retries, backoff, a retry schedule).
///
/// Either way every sleep is recorded (``sleptDurations``), and ``epochMilliseconds`` reads the same time as wall time for code that takes a wall clock beside its `Clock`.
///
/// The waits are orderings, not timeouts: a waiting test is resumed by the sleep it waits for (a continuation, no
/// polling), so a loaded machine makes it slower, never wrong. A test that could hang on a bug bounds itself with
/// a test-level `.timeLimit`; its cancellation ends every wait.
package final class ManualClock: Clock, Sendable {
    /// A point on the manual clock: the offset from its start.
    package struct Instant: InstantProtocol, CustomStringConvertible {
        /// Time since the clock's start.
        package var offset: Duration

        /// Creates an instant.
        /// - Parameter offset: Time since the clock's start.
        package init(offset: Duration) {
            self.offset = offset
        }

        package func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        package func duration(to other: Instant) -> Duration { other.offset - offset }
        package static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
        package var description: String { "\(offset)" }
    }

    private struct Sleeper {
        var id: Int
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// A test waiting for sleepers (``waitForSleepers(_:)``).
    private struct Waiter {
        /// How many sleepers it waits for.
        var count: Int
        /// Fired when they sleep (a cancelled waiter's stays here until then, harmless).
        var latch: Latch
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Sleeper] = []
        var cancelled: Set<Int> = []
        var slept: [Duration] = []
        var waiters: [Waiter] = []

        /// Removes and returns the waiters whose sleepers all sleep now (to be fired outside the lock).
        mutating func satisfiedWaiters() -> [Waiter] {
            guard !waiters.isEmpty else { return [] }
            var satisfied: [Waiter] = []
            var waiting: [Waiter] = []
            for waiter in waiters {
                if sleepers.count >= waiter.count { satisfied.append(waiter) } else { waiting.append(waiter) }
            }
            waiters = waiting
            return satisfied
        }
    }

    private let state = Mutex(State())
    private let advancesOnSleep: Bool
    /// Wall time at the clock's start, in milliseconds since the Unix epoch.
    package let startEpochMilliseconds: Int64

    /// A clock at offset zero.
    /// - Parameters:
    ///   - advancesOnSleep: Sleeping moves `now` to the deadline at once instead of waiting for ``advance(by:)``.
    ///   - startEpochMilliseconds: The wall time ``epochMilliseconds`` reads at offset zero (2026-11-18 by default).
    package init(advancesOnSleep: Bool = false, startEpochMilliseconds: Int64 = 1_795_000_000_000) {
        self.advancesOnSleep = advancesOnSleep
        self.startEpochMilliseconds = startEpochMilliseconds
    }

    package var now: Instant { state.withLock { $0.now } }
    package var minimumResolution: Duration { .nanoseconds(1) }

    /// `now` as wall time: milliseconds since the Unix epoch (``startEpochMilliseconds`` plus the offset, rounded down).
    package var epochMilliseconds: Int64 { startEpochMilliseconds + Self.milliseconds(now.offset) }

    /// The instant at which ``epochMilliseconds`` reads `milliseconds`.
    /// - Parameter milliseconds: Milliseconds since the Unix epoch.
    /// - Returns: The instant (before the clock's start when `milliseconds` is earlier than its start).
    package func instant(epochMilliseconds milliseconds: Int64) -> Instant {
        Instant(offset: .milliseconds(milliseconds - startEpochMilliseconds))
    }

    /// The number of tasks sleeping on the clock now (always 0 with `advancesOnSleep`).
    package var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline of the sleeping tasks.
    package var nextDeadline: Instant? { state.withLock { $0.sleepers.map(\.deadline).min() } }

    /// Every sleep so far, in order: its deadline less `now` when it was asked for (negative for a past deadline).
    package var sleptDurations: [Duration] { state.withLock { $0.slept } }

    /// Sleeps until `deadline`: waits for ``advance(by:)``, or with `advancesOnSleep` moves `now` there at once.
    /// - Throws: `CancellationError` when the task is cancelled before or while it sleeps.
    package func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        let id: Int? = state.withLock { state in
            state.slept.append(state.now.duration(to: deadline))
            if advancesOnSleep {
                if state.now < deadline { state.now = deadline }
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else {
            // Let the tasks that wait on this one run, as a real sleep would.
            await Task.yield()
            return
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (resume, woken): (Result<Void, any Error>?, [Waiter]) = state.withLock { state in
                    if state.cancelled.remove(id) != nil { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return (nil, state.satisfiedWaiters())
                }
                for waiter in woken { waiter.latch.fire() }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                if let index = state.sleepers.firstIndex(where: { $0.id == id }) {
                    return state.sleepers.remove(at: index)
                }
                state.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves `now` forward and wakes every sleeper whose deadline has come, earliest first.
    /// - Parameter duration: How far to move (not negative).
    package func advance(by duration: Duration) {
        let due: [Sleeper] = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits until at least `count` tasks sleep on the clock: every loop is parked, so the test may look or advance.
    ///
    /// Resumed by the sleep that makes the count (no polling, no real-time bound). A sleeper that ``advance(by:)``
    /// woke no longer counts, so after an advance this waits for the woken loops to park again.
    /// - Parameter count: How many sleepers to wait for.
    /// - Returns: True when they sleep; false only when the waiting task was cancelled first (a test's time limit).
    @discardableResult
    package func waitForSleepers(_ count: Int = 1) async -> Bool {
        let latch = Latch()
        let parked = state.withLock { state in
            if state.sleepers.count >= count { return true }
            state.waiters.append(Waiter(count: count, latch: latch))
            return false
        }
        return parked ? true : await latch.wait()
    }

    /// Whole milliseconds in `duration`, rounded down.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return attoseconds < 0 && attoseconds % 1_000_000_000_000_000 != 0 ? milliseconds - 1 : milliseconds
    }
}
