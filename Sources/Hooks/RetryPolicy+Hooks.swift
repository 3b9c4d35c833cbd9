import Retry

/// The hooks' retry schedules, on the package's one backoff.
extension RetryPolicy {
    /// A hook's start tried again while a process holds its file open for writing (ETXTBSY: a hook being saved, or
    /// a forked child between fork and exec; both pass within milliseconds): 20 ms, doubling, five retries (620 ms
    /// in all), no jitter.
    package static var busyStart: RetryPolicy {
        RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(20), maxDelay: .milliseconds(320), jitter: noJitter)
    }

    /// The wait for free descriptors before a hook starts: checked again 50 ms later, doubling up to 1 s, no jitter;
    /// bounded by the hook's timeout (or by cancellation), not by a count.
    package static var descriptorWait: RetryPolicy {
        RetryPolicy(maxAttempts: .max, baseDelay: .milliseconds(50), maxDelay: .seconds(1), jitter: noJitter)
    }
}
