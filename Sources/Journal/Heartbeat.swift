import Synchronization

/// A liveness counter: the poll loop calls ``beat()`` after every round, and ``WatchdogPinger`` pings systemd
/// only if it moved since the last ping, so a stalled loop stops the pings and systemd restarts the service.
///
/// A reference shared between the loop and the pinger; lock-free.
public final class Heartbeat: Sendable {
    private let counter = Atomic<UInt64>(0)

    /// Creates a heartbeat at zero.
    public init() {}

    /// Records one unit of progress.
    public func beat() {
        counter.wrappingAdd(1, ordering: .relaxed)
    }

    /// How many beats so far.
    public var count: UInt64 {
        counter.load(ordering: .relaxed)
    }
}
