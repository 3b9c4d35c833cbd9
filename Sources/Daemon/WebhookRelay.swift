import Events
import Webhooks

/// The journal's `webhooks` consumer in a daemon that reloads: it hands each event to the dispatcher of the current
/// settings, which a reload replaces.
///
/// Pending deliveries live in the outbox under the state directory, not in the dispatcher: the next dispatcher loads
/// them and sends them (those of an endpoint no longer configured are dropped, logged, as at a restart). A swap waits
/// for a `deliver` in progress, so that every entry is on disk before the next dispatcher reads the outbox.
actor WebhookRelay: EventSink {
    private var dispatcher: WebhookDispatcher?
    private var delivering = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// A relay with no dispatcher yet (events it is given go nowhere: no webhook is configured).
    init() {}

    /// Whether a dispatcher is set (some webhook is configured).
    var hasDispatcher: Bool { dispatcher != nil }

    /// Hands the event to the current dispatcher, if any; returns once the outbox holds it.
    func deliver(_ event: Event) async {
        guard let dispatcher else { return }
        delivering += 1
        await dispatcher.deliver(event)
        delivering -= 1
        if delivering == 0 {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters = []
        }
    }

    /// Sets the dispatcher events go to from now on, after any delivery still in progress through the previous one.
    /// - Parameter next: The new dispatcher, or `nil` when no webhook is configured any more.
    func replace(with next: WebhookDispatcher?) async {
        while delivering > 0 {
            await withCheckedContinuation { idleWaiters.append($0) }
        }
        dispatcher = next
    }

    /// How many deliveries wait in the outbox (0 without a dispatcher).
    func pendingCount() async -> Int {
        await dispatcher?.pendingCount() ?? 0
    }
}
