/// The lifecycle event types of the `imdswatch.event/v1` contract.
public enum EventType: String, CaseIterable, Sendable, Codable, Comparable {
    /// A spot notice appeared in `spot/instance-action`.
    case spotInterruption = "spot-interruption"
    /// `events/recommendations/rebalance` appeared.
    case rebalanceRecommendation = "rebalance-recommendation"
    /// An `EventId` appeared in `events/maintenance/scheduled`.
    case maintenanceScheduled = "maintenance-scheduled"
    /// A listed maintenance event's fields changed (rescheduled, state).
    case maintenanceChanged = "maintenance-changed"
    /// An `EventId` left the scheduled list.
    case maintenanceCleared = "maintenance-cleared"
    /// `autoscaling/target-lifecycle-state` changed (the first observation too).
    case asgLifecycleState = "asg-lifecycle-state"
    /// Instance tags differ from the last observation.
    case tagsChanged = "tags-changed"

    /// The metadata path (relative to `/latest/`) this type is detected from.
    public var sourcePath: String {
        switch self {
        case .spotInterruption: "meta-data/spot/instance-action"
        case .rebalanceRecommendation: "meta-data/events/recommendations/rebalance"
        case .maintenanceScheduled, .maintenanceChanged, .maintenanceCleared: "meta-data/events/maintenance/scheduled"
        case .asgLifecycleState: "meta-data/autoscaling/target-lifecycle-state"
        case .tagsChanged: "meta-data/tags/instance"
        }
    }

    public static func < (lhs: EventType, rhs: EventType) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
