/// One lifecycle signal imdswatch polls in IMDS. The configuration names sources by these raw values
/// (`[sources.spot]`), the watcher polls them at ``path``, and each fires its own event types.
///
/// The one name of the watched source in every module (Config, Watch, the CLI), and the one home of each
/// lifecycle path: the payload's `source` field, the poller, the decoders' documentation and `imdswatch get` all
/// read ``path`` (only the simulator, which models the service, routes its own literals).
package enum MetadataSource: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Spot interruption notices.
    case spot
    /// Rebalance recommendations.
    case rebalance
    /// Scheduled maintenance events.
    case maintenance
    /// The Auto Scaling target lifecycle state.
    case asg
    /// Instance tags (the keys, then each value).
    case tags

    /// The metadata path this source is read from, relative to `/latest/`; also every one of its events' `source`.
    package var path: String {
        switch self {
        case .spot: "meta-data/spot/instance-action"
        case .rebalance: "meta-data/events/recommendations/rebalance"
        case .maintenance: "meta-data/events/maintenance/scheduled"
        case .asg: "meta-data/autoscaling/target-lifecycle-state"
        case .tags: "meta-data/tags/instance"
        }
    }

    /// The event types this source can fire (those whose ``EventType/source`` it is).
    package var eventTypes: [EventType] {
        EventType.allCases.filter { $0.source == self }
    }

    package var description: String { rawValue }

    /// Orders sources as ``allCases`` lists them (spot first).
    package static func < (lhs: MetadataSource, rhs: MetadataSource) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }

    /// Hashes the case, not its raw value (what a `RawRepresentable` type gets by default): sources key the poller's
    /// dictionary and set that every poll reads, and hashing the raw value's string cost about 13,000 instructions
    /// per poll cycle (`bench/run`'s callgrind row). Equal sources are the same case, so this agrees with `==`.
    package func hash(into hasher: inout Hasher) {
        hasher.combine(ordinal)
    }

    private var ordinal: UInt8 {
        switch self {
        case .spot: 0
        case .rebalance: 1
        case .maintenance: 2
        case .asg: 3
        case .tags: 4
        }
    }
}
