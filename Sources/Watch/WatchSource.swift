public import Events
import IMDS

/// One thing the watcher polls: the shared ``MetadataSource``, with what polling it needs to know.
public typealias WatchSource = MetadataSource

extension MetadataSource {
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
}
