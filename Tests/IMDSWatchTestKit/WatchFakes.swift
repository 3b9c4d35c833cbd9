import Events
import Synchronization

/// An event sink that keeps every event, for assertions.
package final class RecordingSink: EventSink, Sendable {
    private let storage = Mutex<[Event]>([])

    /// An empty sink.
    package init() {}

    package func deliver(_ event: Event) async {
        storage.withLock { $0.append(event) }
    }

    /// Every event delivered so far, in order.
    package var events: [Event] { storage.withLock { $0 } }

    /// Forgets the events delivered so far.
    package func clear() {
        storage.withLock { $0.removeAll() }
    }
}
