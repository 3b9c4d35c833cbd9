import Events

/// One readable line about an event, for chat messages and templates.
enum WebhookSummary {
    /// For example `spot-interruption on i-0abc (m5.large, eu-west-1b): terminate at 2026-11-24T12:00:00Z`.
    static func line(for event: Event) -> String {
        var subject = event.type.rawValue
        let instance = event.instance.instanceID.isEmpty ? "unknown instance" : event.instance.instanceID
        subject += " on \(instance)"
        let where_ = [event.instance.instanceType, event.instance.availabilityZone].filter { !$0.isEmpty }
        if !where_.isEmpty { subject += " (\(where_.joined(separator: ", ")))" }
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
        let data = event.data
        func field(_ key: String) -> String? {
            switch data[key] {
            case .string(let text)?: text
            case .number(let number)?: number == number.rounded() ? String(Int64(number)) : String(number)
            case .bool(let bool)?: String(bool)
            default: nil
            }
        }
        switch event.type {
        case .spotInterruption:
            return "\(field("action") ?? "action") at \(field("time") ?? "unknown time")"
        case .rebalanceRecommendation:
            return "rebalance recommended at \(field("notice_time") ?? "unknown time")"
        case .maintenanceScheduled, .maintenanceChanged, .maintenanceCleared:
            var parts = [field("code"), field("event_id"), field("state")].compactMap { $0 }
            if let notBefore = field("not_before") {
                parts.append("from \(notBefore)" + (field("not_after").map { " to \($0)" } ?? ""))
            }
            return parts.joined(separator: " ")
        case .asgLifecycleState:
            let previous = event.previous["state"]?.stringValue
            return previous.map { "\($0) -> \(field("state") ?? "?")" } ?? "state \(field("state") ?? "?")"
        case .tagsChanged:
            let parts = ["added", "removed", "changed"].compactMap { key -> String? in
                guard case .object(let members)? = data[key], !members.isEmpty else { return nil }
                return "\(key) " + members.map(\.0).joined(separator: ", ")
            }
            return parts.isEmpty ? "tags changed" : parts.joined(separator: "; ")
        }
    }
}
