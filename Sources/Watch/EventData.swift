public import Events
public import IMDS

/// The `data` and `previous` objects of each event type, exactly as docs/events.md and the contract list them.
public enum EventData {
    /// `spot-interruption`: `action`, `time`.
    public static func spot(_ notice: SpotInstanceAction) -> JSONValue {
        ["action": .string(notice.action), "time": .string(notice.time)]
    }

    /// `rebalance-recommendation`: `notice_time`.
    public static func rebalance(_ recommendation: RebalanceRecommendation) -> JSONValue {
        ["notice_time": .string(recommendation.noticeTime)]
    }

    /// `maintenance-*`: `event_id`, `code`, `description`, `state`, `not_before`, `not_after`,
    /// `not_before_deadline` (null when absent).
    public static func maintenance(_ event: ScheduledMaintenanceEvent) -> JSONValue {
        [
            "event_id": .string(event.eventID),
            "code": .string(event.code),
            "description": .string(event.description),
            "state": .string(event.state),
            "not_before": .string(event.notBefore),
            "not_after": .string(event.notAfter),
            "not_before_deadline": .string(orNull: event.notBeforeDeadline),
        ]
    }

    /// `asg-lifecycle-state` data or previous: `state` (null before the first observation).
    public static func asg(_ state: String?) -> JSONValue {
        ["state": .string(orNull: state)]
    }

    /// `tags-changed`: `added` {k: v}, `removed` {k: v}, `changed` {k: {"from", "to"}}, `tags` (all now).
    /// Keys are sorted by their UTF-8 bytes.
    public static func tags(from old: [String: String], to new: [String: String]) -> JSONValue {
        var added: [String: String] = [:]
        var removed: [String: String] = [:]
        var changed: [(String, JSONValue)] = []
        for key in sortedKeys(new) {
            guard let value = new[key] else { continue }
            if let before = old[key] {
                if before != value { changed.append((key, ["from": .string(before), "to": .string(value)])) }
            } else {
                added[key] = value
            }
        }
        for (key, value) in old where new[key] == nil { removed[key] = value }
        return ["added": object(added), "removed": object(removed), "changed": .object(changed), "tags": object(new)]
    }

    /// A string map as a JSON object with keys sorted by their UTF-8 bytes.
    public static func object(_ map: [String: String]) -> JSONValue {
        .object(sortedKeys(map).compactMap { key in map[key].map { (key, JSONValue.string($0)) } })
    }

    static func sortedKeys(_ map: [String: String]) -> [String] {
        map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
