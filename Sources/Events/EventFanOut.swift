/// Hands every event to several sinks in order (hooks, webhooks, …). Each sink's `deliver` only hands over, so
/// no sink waits for another's work.
package struct EventFanOut: EventSink {
    private let sinks: [any EventSink]

    /// Creates a fan-out to `sinks`, delivered in this order.
    package init(_ sinks: [any EventSink]) {
        self.sinks = sinks
    }

    package func deliver(_ event: Event) async {
        for sink in sinks {
            await sink.deliver(event)
        }
    }
}
