import Events
import IMDS

/// What one read of a source found, when it found something.
package enum SourceValue: Sendable, Equatable {
    /// A spot notice is present.
    case spot(SpotInterruption)
    /// A rebalance recommendation is present.
    case rebalance(RebalanceNotice)
    /// The scheduled maintenance list (empty for none, whether IMDS said `[]` or 404).
    case maintenance([MaintenanceNotice])
    /// The Auto Scaling lifecycle state.
    case asg(String)
    /// The instance tags.
    case tags([String: String])

    /// The source this value comes from.
    package var source: MetadataSource {
        switch self {
        case .spot: .spot
        case .rebalance: .rebalance
        case .maintenance: .maintenance
        case .asg: .asg
        case .tags: .tags
        }
    }

    /// A one-line summary for logs and `imdswatch status`.
    package var summary: String {
        switch self {
        case .spot(let notice): "\(notice.action) at \(notice.time)"
        case .rebalance(let recommendation): "recommended at \(recommendation.noticeTime)"
        case .maintenance(let events) where events.isEmpty: "none scheduled"
        case .maintenance(let events):
            events.map { "\($0.eventID) \($0.code) \($0.state) from \($0.notBefore)" }.joined(separator: "; ")
        case .asg(let state): state
        case .tags(let tags) where tags.isEmpty: "no tags"
        case .tags(let tags): tags.count == 1 ? "1 tag" : "\(tags.count) tags"
        }
    }

    /// The value as JSON for `imdswatch status --json`.
    package var json: JSONValue {
        switch self {
        case .spot(let notice): notice.json
        case .rebalance(let recommendation): recommendation.json
        case .maintenance(let events): .array(events.map(\.json))
        case .asg(let state): ["state": .string(state)]
        case .tags(let tags): Tag.json(Tag.sorted(tags))
        }
    }
}

/// The outcome of one read of a source: a value, absent (404), or an error. An error is never "absent".
package enum Observation: Sendable, Equatable {
    /// The source answered with a value.
    case value(SourceValue)
    /// The path is absent (404): no notice, not in an Auto Scaling group, tags not enabled.
    case absent
    /// The read failed (timeout, 5xx, unparsable body, …): says nothing about the source's state.
    case failed(IMDSError)

    /// The error, when the read failed.
    package var error: IMDSError? {
        if case .failed(let error) = self { return error }
        return nil
    }

    /// A one-line summary for logs and `imdswatch status`.
    package var summary: String {
        switch self {
        case .value(let value): value.summary
        case .absent: "absent"
        case .failed(let error): "error: \(error.message)"
        }
    }
}
