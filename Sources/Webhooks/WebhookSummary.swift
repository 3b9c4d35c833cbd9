import Events

/// One readable line about an event, for chat messages and templates.
enum WebhookSummary {
    /// For example `spot-interruption on i-0abc (m5.large, eu-west-1b): terminate at 2026-11-24T12:00:00Z`.
    static func line(for event: Event) -> String {
        var subject = event.type.rawValue
        let instance = event.instance.instanceID.isEmpty ? "unknown instance" : event.instance.instanceID
        subject += " on \(instance)"
        let placement = [event.instance.instanceType, event.instance.availabilityZone].filter { !$0.isEmpty }
        if !placement.isEmpty { subject += " (\(placement.joined(separator: ", ")))" }
        let detail = detail(for: event)
        var line = detail.isEmpty ? subject : "\(subject): \(detail)"
        if event.synthetic { line += " [synthetic test]" }
        return line
    }

    /// A Slack emoji for the type.
    static func emoji(for type: EventType) -> String {
        switch type {
        case .spotInterruption: ":warning:"
        case .rebalanceRecommendation: ":recycle:"
        case .maintenanceScheduled, .maintenanceChanged: ":wrench:"
        case .maintenanceCleared: ":white_check_mark:"
        case .asgLifecycleState: ":arrows_counterclockwise:"
        case .tagsChanged: ":label:"
        }
    }

    /// `critical`, `warning` or `info`, as PagerDuty names severities.
    static func severity(for type: EventType) -> String {
        switch type {
        case .spotInterruption: "critical"
        case .maintenanceCleared, .tagsChanged: "info"
        default: "warning"
        }
    }

    private static func detail(for event: Event) -> String {
        switch event.detail {
        case .spotInterruption(let notice):
            return "\(notice.action) at \(notice.time)"
        case .rebalanceRecommendation(let notice):
            return "rebalance recommended at \(notice.noticeTime)"
        case .maintenanceScheduled(let notice), .maintenanceChanged(let notice, _), .maintenanceCleared(let notice):
            return "\(notice.code) \(notice.eventID) \(notice.state) from \(notice.notBefore) to \(notice.notAfter)"
        case .asgLifecycleState(let change):
            return change.previousState.map { "\($0) -> \(change.state)" } ?? "state \(change.state)"
        case .tagsChanged(let changes):
            let parts = [
                ("added", changes.added.map(\.key)), ("removed", changes.removed.map(\.key)),
                ("changed", changes.changed.map(\.key)),
            ].compactMap { name, keys in keys.isEmpty ? nil : "\(name) " + keys.joined(separator: ", ") }
            return parts.isEmpty ? "tags changed" : parts.joined(separator: "; ")
        }
    }
}
