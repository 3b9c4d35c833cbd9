import Synchronization

/// A value behind a lock that closures can capture (a `Mutex` itself cannot be captured: it is not copyable).
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// Creates the box holding `value`.
    package init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// The current value.
    package var value: Value { mutex.withLock { $0 } }

    /// Changes the value under the lock.
    package func update(_ change: (inout Value) -> Void) {
        mutex.withLock { change(&$0) }
    }
}
