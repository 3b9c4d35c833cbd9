/// What one event says, typed per event type: the source of its payload's `data` and `previous`.
///
/// Provider-neutral: a cloud's notice maps onto these (an interruption with an action and a time, a maintenance
/// window, a lifecycle state, tag changes); the JSON is made only at the edges (``Event/encoded``).
package enum EventDetail: Sendable, Equatable {
    /// `spot-interruption`.
    case spotInterruption(SpotInterruption)
    /// `rebalance-recommendation`.
    case rebalanceRecommendation(RebalanceNotice)
    /// `maintenance-scheduled`: the event as listed.
    case maintenanceScheduled(MaintenanceNotice)
    /// `maintenance-changed`: the event now and its fields before.
    case maintenanceChanged(MaintenanceNotice, previous: MaintenanceNotice)
    /// `maintenance-cleared`: the fields last seen.
    case maintenanceCleared(MaintenanceNotice)
    /// `asg-lifecycle-state`.
    case asgLifecycleState(LifecycleStateChange)
    /// `tags-changed`.
    case tagsChanged(TagChanges)

    /// The event type this detail belongs to.
    package var type: EventType {
        switch self {
        case .spotInterruption: .spotInterruption
        case .rebalanceRecommendation: .rebalanceRecommendation
        case .maintenanceScheduled: .maintenanceScheduled
        case .maintenanceChanged: .maintenanceChanged
        case .maintenanceCleared: .maintenanceCleared
        case .asgLifecycleState: .asgLifecycleState
        case .tagsChanged: .tagsChanged
        }
    }
}

/// An interruption notice: what will happen to the instance (`terminate`, `stop`, `hibernate`) and when.
package struct SpotInterruption: Sendable, Equatable {
    /// The action, lower case.
    package var action: String
    /// When it happens.
    package var time: EventTime

    /// Creates a notice.
    package init(action: String, time: EventTime) {
        self.action = action
        self.time = time
    }
}

/// A rebalance recommendation: when it was made.
package struct RebalanceNotice: Sendable, Equatable {
    /// When the recommendation was made.
    package var noticeTime: EventTime

    /// Creates a recommendation.
    package init(noticeTime: EventTime) {
        self.noticeTime = noticeTime
    }
}

/// A scheduled maintenance event's fields.
package struct MaintenanceNotice: Sendable, Equatable {
    /// The provider's stable id of the event (`instance-event-…`).
    package var eventID: String
    /// What will happen (`system-reboot`, `instance-retirement`, …).
    package var code: String
    /// Free text.
    package var description: String
    /// `active`, `completed` or `canceled`.
    package var state: String
    /// Start of the window.
    package var notBefore: EventTime
    /// End of the window.
    package var notAfter: EventTime
    /// Latest start a reschedule may pick, when the provider gives one.
    package var notBeforeDeadline: EventTime?

    /// Creates the fields of one maintenance event.
    package init(
        eventID: String, code: String, description: String, state: String,
        notBefore: EventTime, notAfter: EventTime, notBeforeDeadline: EventTime? = nil
    ) {
        self.eventID = eventID
        self.code = code
        self.description = description
        self.state = state
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.notBeforeDeadline = notBeforeDeadline
    }
}

/// A change of the Auto Scaling target lifecycle state.
package struct LifecycleStateChange: Sendable, Equatable {
    /// The state now (`InService`, `Terminated`, `Warmed:Pending`, …).
    package var state: String
    /// The state before, `nil` at the first observation.
    package var previousState: String?
    /// The group and lifecycle hook, once the lifecycle stage has looked them up; `nil` as detected.
    package var target: LifecycleTarget?

    /// Creates a change.
    package init(state: String, previousState: String?, target: LifecycleTarget? = nil) {
        self.state = state
        self.previousState = previousState
        self.target = target
    }
}

/// The Auto Scaling group an instance is in and the lifecycle hook that holds it, as far as they are known.
package struct LifecycleTarget: Sendable, Equatable {
    /// The group, `nil` when unknown.
    package var group: String?
    /// The lifecycle hook the state waits on, `nil` when none is configured or the group is unknown.
    package var hook: String?

    /// Creates a target.
    package init(group: String?, hook: String?) {
        self.group = group
        self.hook = hook
    }
}

/// One tag.
package struct Tag: Sendable, Equatable {
    /// The key.
    package var key: String
    /// The value.
    package var value: String

    /// Creates a tag.
    package init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// One tag whose value changed.
package struct TagChange: Sendable, Equatable {
    /// The key.
    package var key: String
    /// The value before.
    package var from: String
    /// The value now.
    package var to: String

    /// Creates a change.
    package init(_ key: String, from: String, to: String) {
        self.key = key
        self.from = from
        self.to = to
    }
}

/// How the tags differ from the last observation; each list in the order the payload shows it.
package struct TagChanges: Sendable, Equatable {
    /// Tags that appeared.
    package var added: [Tag]
    /// Tags that went away, with their last value.
    package var removed: [Tag]
    /// Tags whose value changed.
    package var changed: [TagChange]
    /// All tags now.
    package var tags: [Tag]

    /// Creates the changes.
    package init(added: [Tag], removed: [Tag], changed: [TagChange], tags: [Tag]) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.tags = tags
    }
}

extension Tag {
    /// A key-value map as tags sorted by their keys' UTF-8 bytes: the order every payload and the state file list
    /// tags in.
    package static func sorted(_ map: [String: String]) -> [Tag] {
        sortedKeys(map).compactMap { key in map[key].map { Tag(key, $0) } }
    }

    static func sortedKeys(_ map: [String: String]) -> [String] {
        map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

extension TagChanges {
    /// How the tags `new` differ from the tags `old`: added, removed (with their last value), changed, and all tags
    /// now, each list sorted by the keys' UTF-8 bytes.
    package init(from old: [String: String], to new: [String: String]) {
        var added: [Tag] = []
        var changed: [TagChange] = []
        for key in Tag.sortedKeys(new) {
            guard let value = new[key] else { continue }
            if let before = old[key] {
                if before != value { changed.append(TagChange(key, from: before, to: value)) }
            } else {
                added.append(Tag(key, value))
            }
        }
        let removed = Tag.sortedKeys(old).compactMap { key in new[key] == nil ? old[key].map { Tag(key, $0) } : nil }
        self.init(added: added, removed: removed, changed: changed, tags: Tag.sorted(new))
    }
}
