import Events

/// The `asg-lifecycle-state` event's fields as the lifecycle stage reads and writes them, in one place.
extension LifecycleActions {
    /// The target lifecycle state an `asg-lifecycle-state` event reports (`Terminated`, `InService`, `Warmed:*`…).
    static func targetState(of event: Event) -> String {
        event.lifecycleStateChange?.state ?? ""
    }

    /// The event with its group and lifecycle hook set (`nil`: unknown or not configured).
    static func enriched(_ event: Event, group: String?, hook: String?) -> Event {
        var enriched = event
        enriched.lifecycleTarget = LifecycleTarget(group: group, hook: hook)
        return enriched
    }
}
