import Durability

extension ManualClock {
    /// This clock as the code's `WallClock` (its one wall-clock time source): ``epochMilliseconds`` is `now()`.
    package var wallClock: ManualWallClock { ManualWallClock(clock: self) }
}

/// A ``ManualClock`` as a `WallClock`: `now()` reads ``ManualClock/epochMilliseconds``; sleeping until a wall time
/// sleeps on the manual clock until the instant that reads it (at once when the clock advances on sleep).
package struct ManualWallClock: WallClock {
    /// The clock read and slept on.
    package let clock: ManualClock

    package func now() -> Int64 { clock.epochMilliseconds }

    package func sleep(untilMilliseconds deadline: Int64) async throws {
        try await clock.sleep(until: clock.instant(epochMilliseconds: deadline), tolerance: nil)
    }
}
