#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wall-clock time in milliseconds since the Unix epoch: the one time source of instants that are persisted or shown
/// (`detected_at`, outbox and journal times, log timestamps, moved-aside file names), so that they mean the same after
/// a restart. Durations between two moments use a `Clock<Duration>` instead.
///
/// Production uses ``SystemWallClock``; tests inject one that they advance by hand.
package protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func now() -> Int64
    /// Suspends until ``now()`` reaches `deadline`.
    /// - Parameter deadline: Milliseconds since the Unix epoch.
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(untilMilliseconds deadline: Int64) async throws
}

/// The system's real-time clock (`CLOCK_REALTIME`); sleeps on the task clock.
package struct SystemWallClock: WallClock {
    /// Creates the clock.
    package init() {}

    /// Milliseconds since the Unix epoch, from `CLOCK_REALTIME` (the fraction truncated).
    package func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Sleeps for the time left until `deadline` (none when it has passed).
    /// - Throws: `CancellationError` when the task is cancelled.
    package func sleep(untilMilliseconds deadline: Int64) async throws {
        let remaining = deadline - now()
        if remaining > 0 {
            try await Task.sleep(for: .milliseconds(remaining))
        } else {
            try Task.checkCancellation()
        }
    }
}
