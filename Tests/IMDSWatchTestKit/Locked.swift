import Synchronization

/// A value behind a lock that closures can capture (a `Mutex` itself cannot be captured: it is not copyable).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Creates the box holding `value`.
    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// The current value.
    public var value: Value { mutex.withLock { $0 } }

    /// Changes the value under the lock.
    public func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}
