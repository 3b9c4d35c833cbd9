import Events

/// A stage that takes journaled events into a durable store of its own (hooks, webhooks, lifecycle actions).
///
/// The ``EventJournal`` offers each event to every consumer that ``handles(_:)`` it, once the event's record is
/// durable, and records the consumer's acknowledgement when ``take(_:)`` returns an event. An event a consumer has
/// not acknowledged is offered to it again at the next start, so `take` must be idempotent by event id.
/// A consumer is added by passing it to the journal: the poller and the other consumers do not change.
package protocol JournalConsumer: Sendable {
    /// A stable name, written in the journal's acknowledgements (`lifecycle`, `hooks`, `webhooks`).
    var name: String { get }
    /// The consumer whose output this one takes for the events that consumer handles (`nil`: the detected event).
    var upstream: String? { get }
    /// Whether this consumer wants the event at all (events it does not want need no acknowledgement from it).
    func handles(_ event: Event) -> Bool
    /// Takes the event into the consumer's own durable store and returns it as it is handed on downstream
    /// (possibly enriched), or `nil` when it could not take it (shutting down): it is offered again at the next
    /// start. Called for one event at a time per consumer, from a task that never delays polling.
    func take(_ event: Event) async -> Event?
}

extension JournalConsumer {
    /// No upstream: the consumer takes the event as detected.
    package var upstream: String? { nil }
}

/// A consumer that hands each event to an ``EventSink`` whose `deliver` makes it durable before it returns (the
/// hook dispatcher's `hooks-pending/` record, the webhook outbox entry).
package struct SinkConsumer: JournalConsumer {
    package let name: String
    package let upstream: String?
    let sink: any EventSink

    /// Creates the consumer.
    /// - Parameters:
    ///   - name: Its name in the journal.
    ///   - upstream: The consumer whose output it takes (see ``JournalConsumer/upstream``).
    ///   - sink: Where events go; durable there when `deliver` returns.
    package init(name: String, upstream: String? = nil, sink: any EventSink) {
        self.name = name
        self.upstream = upstream
        self.sink = sink
    }

    package func handles(_ event: Event) -> Bool { true }

    package func take(_ event: Event) async -> Event? {
        await sink.deliver(event)
        return event
    }
}
