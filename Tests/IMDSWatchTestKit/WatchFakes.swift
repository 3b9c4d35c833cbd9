public import Events
import Synchronization

/// An event sink that keeps every event, for assertions.
public final class RecordingSink: EventSink, Sendable {
    private let storage = Mutex<[Event]>([])

    /// An empty sink.
    public init() {}

    public func deliver(_ event: Event) async {
        storage.withLock { $0.append(event) }
    }

    /// Every event delivered so far, in order.
    public var events: [Event] { storage.withLock { $0 } }

    /// Forgets the events delivered so far.
    public func clear() {
        storage.withLock { $0.removeAll() }
    }
}
