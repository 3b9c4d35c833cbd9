/// One lifecycle signal imdswatch polls in IMDS. The configuration names sources by these raw values
/// (`[sources.spot]`), the watcher polls them, and each fires its own event types.
public enum MetadataSource: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
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

    /// Orders sources as ``allCases`` lists them (spot first).
    public static func < (lhs: MetadataSource, rhs: MetadataSource) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}
