public import Events

extension Settings {
    /// A watched part of IMDS; each can be turned off or given its own poll interval.
    public enum Source: String, CaseIterable, Sendable, Comparable {
        /// `meta-data/spot/instance-action`.
        case spot
        /// `meta-data/events/recommendations/rebalance`.
        case rebalance
        /// `meta-data/events/maintenance/scheduled`.
        case maintenance
        /// `meta-data/autoscaling/target-lifecycle-state`.
        case asg
        /// `meta-data/tags/instance`.
        case tags

        /// The event types this source fires.
        public var eventTypes: [EventType] {
            switch self {
            case .spot: [.spotInterruption]
            case .rebalance: [.rebalanceRecommendation]
            case .maintenance: [.maintenanceScheduled, .maintenanceChanged, .maintenanceCleared]
            case .asg: [.asgLifecycleState]
            case .tags: [.tagsChanged]
            }
        }

        /// Orders sources as ``allCases`` lists them.
        public static func < (lhs: Source, rhs: Source) -> Bool {
            let order = Source.allCases
            return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
        }
    }

    /// The resolved settings of one source.
    public struct SourceSettings: Sendable, Equatable {
        /// Whether the source is polled at all.
        public var enabled: Bool
        /// Its poll interval: its own from `[sources.NAME] interval`, else the global one.
        public var interval: Duration

        /// Creates source settings.
        /// - Parameters:
        ///   - enabled: Whether the source is polled.
        ///   - interval: Its poll interval.
        public init(enabled: Bool, interval: Duration) {
            self.enabled = enabled
            self.interval = interval
        }
    }
}
