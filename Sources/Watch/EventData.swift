import Events
import IMDS

/// The typed detail of each event type from what IMDS said, exactly as docs/events.md and the contract list them.
package enum EventData {
    /// `spot-interruption`: action and time.
    package static func spot(_ notice: SpotInstanceAction) -> SpotInterruption {
        SpotInterruption(action: notice.action, time: EventTime(rfc3339: notice.time))
    }

    /// `rebalance-recommendation`: the notice time.
    package static func rebalance(_ recommendation: RebalanceRecommendation) -> RebalanceNotice {
        RebalanceNotice(noticeTime: EventTime(rfc3339: recommendation.noticeTime))
    }

    /// `maintenance-*`: the event's fields.
    package static func maintenance(_ event: ScheduledMaintenanceEvent) -> MaintenanceNotice {
        MaintenanceNotice(
            eventID: event.eventID, code: event.code, description: event.description, state: event.state,
            notBefore: EventTime(rfc3339: event.notBefore), notAfter: EventTime(rfc3339: event.notAfter),
            notBeforeDeadline: event.notBeforeDeadline.map(EventTime.init(rfc3339:))
        )
    }

    /// `tags-changed`: added, removed, changed and all tags now, each with keys sorted by their UTF-8 bytes.
    package static func tags(from old: [String: String], to new: [String: String]) -> TagChanges {
        var added: [Tag] = []
        var changed: [TagChange] = []
        for key in sortedKeys(new) {
            guard let value = new[key] else { continue }
            if let before = old[key] {
                if before != value { changed.append(TagChange(key, from: before, to: value)) }
            } else {
                added.append(Tag(key, value))
            }
        }
        let removed = sortedKeys(old).compactMap { key in new[key] == nil ? old[key].map { Tag(key, $0) } : nil }
        return TagChanges(added: added, removed: removed, changed: changed, tags: sorted(new))
    }

    /// A string map as tags sorted by their keys' UTF-8 bytes.
    package static func sorted(_ map: [String: String]) -> [Tag] {
        sortedKeys(map).compactMap { key in map[key].map { Tag(key, $0) } }
    }

    static func sortedKeys(_ map: [String: String]) -> [String] {
        map.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
