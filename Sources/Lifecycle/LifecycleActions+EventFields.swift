import Events

/// The `asg-lifecycle-state` event's fields as the lifecycle stage reads and writes them: the one place in this
/// module that touches `Event.data`.
extension LifecycleActions {
    /// The target lifecycle state an `asg-lifecycle-state` event reports (`Terminated`, `InService`, `Warmed:*`…).
    static func targetState(of event: Event) -> String {
        event.data["state"]?.stringValue ?? ""
    }

    /// The event with `group` and `lifecycle_hook` set (JSON null when unknown or not configured).
    static func enriched(_ event: Event, group: String?, hook: String?) -> Event {
        var enriched = event
        guard case .object(var members) = event.data else { return event }
        for (key, value) in [("group", JSONValue.string(orNull: group)), ("lifecycle_hook", .string(orNull: hook))] {
            if let index = members.firstIndex(where: { $0.0 == key }) { members[index].1 = value } else { members.append((key, value)) }
        }
        enriched.data = .object(members)
        return enriched
    }
}
