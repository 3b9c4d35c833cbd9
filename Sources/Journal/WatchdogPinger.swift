public import Logging

/// Sends `WATCHDOG=1` every ``interval`` while a ``Heartbeat`` keeps advancing.
///
/// At each tick it pings only if the heartbeat moved since the previous tick; a stalled poll loop therefore
/// stops the pings, and after `WatchdogSec=` systemd kills and restarts the service.
public struct WatchdogPinger: Sendable {
    /// Where the pings go.
    public let notifier: SystemdNotifier
    /// The liveness signal.
    public let heartbeat: Heartbeat
    /// The time between ticks, usually ``SystemdNotifier/watchdogInterval``.
    public let interval: Duration
    /// Where failed pings are reported.
    public let logger: Logger

    /// Creates a pinger.
    /// - Parameters:
    ///   - notifier: Where the pings go.
    ///   - heartbeat: The liveness signal.
    ///   - interval: The time between ticks.
    ///   - logger: Where failed pings are reported (at warning).
    public init(notifier: SystemdNotifier, heartbeat: Heartbeat, interval: Duration, logger: Logger) {
        self.notifier = notifier
        self.heartbeat = heartbeat
        self.interval = interval
        self.logger = logger
    }

    /// Ticks until the task is cancelled, then returns. The first tick is one interval after the call, and it
    /// pings only if the heartbeat moved since the call.
    /// - Parameter clock: The clock to sleep on; tests pass a manual one.
    public func run<C: Clock>(clock: C) async where C.Duration == Duration {
        var gate = WatchdogGate(initialCount: heartbeat.count)
        var deadline = clock.now.advanced(by: interval)
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
            deadline = deadline.advanced(by: interval)
            guard gate.shouldPing(count: heartbeat.count) else {
                logger.debug("watchdog: heartbeat stalled, not pinging")
                continue
            }
            do {
                try notifier.watchdog()
            } catch {
                logger.warning("watchdog ping failed: \(error)")
            }
        }
    }
}

/// The pinger's decision, separate from time and I/O: ping when the count differs from the last one seen.
public struct WatchdogGate: Sendable, Hashable {
    private var lastCount: UInt64

    /// Creates a gate that has seen `initialCount`.
    /// - Parameter initialCount: The heartbeat's count when the pinger starts.
    public init(initialCount: UInt64) {
        self.lastCount = initialCount
    }

    /// Whether to ping now, given the heartbeat's current count; remembers `count`.
    /// - Parameter count: The heartbeat's current count.
    /// - Returns: `true` when the heartbeat moved since the last call.
    public mutating func shouldPing(count: UInt64) -> Bool {
        defer { lastCount = count }
        return count != lastCount
    }
}
