public import Events
import IMDS

/// One thing the watcher polls.
public enum WatchSource: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// `meta-data/spot/instance-action`: spot interruption notices.
    case spot
    /// `meta-data/events/recommendations/rebalance`: rebalance recommendations.
    case rebalance
    /// `meta-data/events/maintenance/scheduled`: scheduled maintenance events.
    case maintenance
    /// `meta-data/autoscaling/target-lifecycle-state`: the Auto Scaling lifecycle state.
    case asg
    /// `meta-data/tags/instance`: instance tags (the keys, then each value).
    case tags

    /// The metadata path, relative to `/latest/`.
    public var path: String {
        switch self {
        case .spot: SpotInstanceAction.path
        case .rebalance: RebalanceRecommendation.path
        case .maintenance: ScheduledMaintenanceEvent.path
        case .asg: LifecycleState.path
        case .tags: InstanceTags.path
        }
    }

    /// True when a 404 means "not configured here" (tags in IMDS not enabled, not in an Auto Scaling group):
    /// such a source is then polled at the slower absent interval. For the others a 404 just means "nothing now".
    public var absentMeansNotConfigured: Bool {
        self == .asg || self == .tags
    }

    /// Why the path is absent, for the log line, when ``absentMeansNotConfigured``.
    var absentReason: String {
        switch self {
        case .asg: "the instance is not in an Auto Scaling group"
        case .tags: "instance tags are not enabled in instance metadata"
        default: "nothing is pending"
        }
    }

    /// The event types this source can fire.
    public var eventTypes: [EventType] {
        switch self {
        case .spot: [.spotInterruption]
        case .rebalance: [.rebalanceRecommendation]
        case .maintenance: [.maintenanceScheduled, .maintenanceChanged, .maintenanceCleared]
        case .asg: [.asgLifecycleState]
        case .tags: [.tagsChanged]
        }
    }

    public var description: String { rawValue }

    public static func < (lhs: WatchSource, rhs: WatchSource) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}
