/// The lifecycle event types of the `imdswatch.event/v1` contract.
package enum EventType: String, CaseIterable, Sendable, Codable, Comparable {
    /// A spot interruption notice appeared.
    case spotInterruption = "spot-interruption"
    /// A rebalance recommendation appeared.
    case rebalanceRecommendation = "rebalance-recommendation"
    /// An `EventId` appeared in the scheduled maintenance list.
    case maintenanceScheduled = "maintenance-scheduled"
    /// A listed maintenance event's fields changed (rescheduled, state).
    case maintenanceChanged = "maintenance-changed"
    /// An `EventId` left the scheduled list.
    case maintenanceCleared = "maintenance-cleared"
    /// The Auto Scaling target lifecycle state changed (the first observation too).
    case asgLifecycleState = "asg-lifecycle-state"
    /// Instance tags differ from the last observation.
    case tagsChanged = "tags-changed"

    /// The source this type is detected from; its ``MetadataSource/path`` is the payload's `source`.
    package var source: MetadataSource {
        switch self {
        case .spotInterruption: .spot
        case .rebalanceRecommendation: .rebalance
        case .maintenanceScheduled, .maintenanceChanged, .maintenanceCleared: .maintenance
        case .asgLifecycleState: .asg
        case .tagsChanged: .tags
        }
    }

    package static func < (lhs: EventType, rhs: EventType) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
