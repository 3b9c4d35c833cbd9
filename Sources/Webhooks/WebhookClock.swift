import Foundation

/// Wall-clock time for the dispatcher: outbox times are persisted, so they must mean the same after a restart.
///
/// Tests inject a clock that jumps forward when slept on.
public protocol WebhookClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func now() -> Int64
    /// Suspends until ``now()`` reaches `deadline` (milliseconds since the Unix epoch).
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(untilMilliseconds deadline: Int64) async throws
}

/// The system's real-time clock; sleeps on the continuous clock.
public struct SystemWebhookClock: WebhookClock {
    /// Creates the clock.
    public init() {}

    public func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    public func sleep(untilMilliseconds deadline: Int64) async throws {
        let remaining = deadline - now()
        if remaining > 0 {
            try await Task.sleep(for: .milliseconds(remaining))
        } else {
            try Task.checkCancellation()
        }
    }
}
