/// The one backoff of the package: bounded exponential backoff with full jitter, used by every loop that tries
/// something again (IMDS reads and tokens, the Auto Scaling API, webhook deliveries, a hook's start while its file is
/// busy, the wait for free descriptors before a hook starts). A module of its own, with no dependencies, so that
/// modules which do not speak HTTP (Hooks) use it without linking libcurl.
///
/// The delay before retry *n* (1 for the first retry) is ``jitter`` of min(``maxDelay``, ``baseDelay`` × 2^(n−1)).
/// Each caller keeps its documented schedule through its own values: ``RetryPolicy/init(maxAttempts:baseDelay:maxDelay:jitter:)``'s
/// defaults are the IMDS client's, ``webhook`` the webhook dispatcher's, the Auto Scaling client has its own
/// `defaultRetry`, and Hooks its `busyStart` and `descriptorWait`. Which outcomes deserve a retry stays with each
/// caller.
package struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (`Int.max`: bounded by something else, such as a webhook's maximum age).
    package var maxAttempts: Int
    /// The backoff before the first retry (before jitter).
    package var baseDelay: Duration
    /// The longest backoff.
    package var maxDelay: Duration
    /// Turns a backoff into the delay actually waited (``fullJitter`` unless a test injects another).
    package var jitter: @Sendable (Duration) -> Duration

    /// Creates a policy; the defaults are the IMDS client's (3 attempts, 0.1 s doubling, at most 1 s).
    /// - Parameters:
    ///   - maxAttempts: Attempts in all, the first included.
    ///   - baseDelay: The backoff before the first retry.
    ///   - maxDelay: The longest backoff.
    ///   - jitter: Turns a backoff into the delay waited; tests inject `{ $0 }` (none) or another fixed rule.
    package init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(1),
        jitter: @escaping @Sendable (Duration) -> Duration = RetryPolicy.fullJitter
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// The webhook dispatcher's schedule (docs/webhooks.md): 1 s doubling, at most 60 s, full jitter, attempts
    /// bounded only by the endpoint's maximum age.
    package static var webhook: RetryPolicy {
        RetryPolicy(maxAttempts: .max, baseDelay: .seconds(1), maxDelay: .seconds(60))
    }

    /// No jitter: the delay is the backoff (schedules that wait for a local condition, not for a shared server).
    package static let noJitter: @Sendable (Duration) -> Duration = { $0 }

    /// Full jitter: a uniformly random delay between zero and the backoff.
    package static let fullJitter: @Sendable (Duration) -> Duration = { backoff in
        let nanos = backoff.components.seconds * 1_000_000_000 + backoff.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos))
    }

    /// The backoff before retry number `attempt` (1-based), before jitter: min(maxDelay, baseDelay × 2^(attempt−1)).
    /// - Parameter attempt: How many attempts have failed so far (values below 1 count as 1).
    /// - Returns: The upper bound of the delay.
    package func backoff(beforeRetry attempt: Int) -> Duration {
        min(maxDelay, baseDelay * (1 << min(max(attempt - 1, 0), 20)))
    }

    /// The delay before retry number `attempt` (1-based): ``jitter`` of ``backoff(beforeRetry:)``.
    /// - Parameter attempt: How many attempts have failed so far.
    /// - Returns: The delay to wait.
    package func delay(beforeRetry attempt: Int) -> Duration {
        jitter(backoff(beforeRetry: attempt))
    }
}
