/// Realistic events made up for `imdswatch hooks test` and the demo: the same shape as detected ones, with
/// `"synthetic": true`.
package enum SyntheticEvents {
    /// The instance synthetic events are about.
    package static let instance = InstanceInfo(
        instanceID: "i-0123456789abcdef0",
        instanceType: "m5.large",
        region: "eu-west-1",
        availabilityZone: "eu-west-1b",
        accountID: "123456789012"
    )

    /// A synthetic event of `type` detected at `nowMilliseconds` (milliseconds since the Unix epoch), with times
    /// in the near future: a spot action in 2 minutes, maintenance in 7 days.
    /// - Parameters:
    ///   - type: The event type.
    ///   - nowMilliseconds: The detection time.
    ///   - instance: The instance (default: ``instance``).
    package static func event(
        _ type: EventType,
        nowMilliseconds: Int64,
        instance: InstanceInfo = SyntheticEvents.instance
    ) -> Event {
        let now = nowMilliseconds / 1000
        func time(_ offset: Int64) -> EventTime { EventTime(seconds: now + offset) }
        let day: Int64 = 86_400
        let inAWeek = maintenance(notBefore: time(7 * day), notAfter: time(7 * day + 7200))
        let detail: EventDetail
        switch type {
        case .spotInterruption:
            detail = .spotInterruption(SpotInterruption(action: "terminate", time: time(120)))
        case .rebalanceRecommendation:
            detail = .rebalanceRecommendation(RebalanceNotice(noticeTime: time(0)))
        case .maintenanceScheduled:
            detail = .maintenanceScheduled(inAWeek)
        case .maintenanceCleared:
            detail = .maintenanceCleared(inAWeek)
        case .maintenanceChanged:
            detail = .maintenanceChanged(
                maintenance(notBefore: time(9 * day), notAfter: time(9 * day + 7200)), previous: inAWeek)
        case .asgLifecycleState:
            detail = .asgLifecycleState(
                LifecycleStateChange(
                    state: "Terminated", previousState: "InService",
                    target: LifecycleTarget(group: "web-asg", hook: nil)
                ))
        case .tagsChanged:
            detail = .tagsChanged(
                TagChanges(
                    added: [Tag("maintenance-window", "sun-02:00")],
                    removed: [Tag("temporary", "yes")],
                    changed: [TagChange("Environment", from: "staging", to: "production")],
                    tags: [
                        Tag("Name", "web-1"),
                        Tag("Environment", "production"),
                        Tag("aws:autoscaling:groupName", "web-asg"),
                        Tag("maintenance-window", "sun-02:00"),
                    ]
                ))
        }
        return Event(
            id: "synthetic-\(type.rawValue)-\(nowMilliseconds)",
            detectedAtMilliseconds: nowMilliseconds,
            instance: instance,
            detail: detail,
            synthetic: true
        )
    }

    /// One synthetic event of every type, in `EventType.allCases` order.
    package static func all(nowMilliseconds: Int64) -> [Event] {
        EventType.allCases.map { event($0, nowMilliseconds: nowMilliseconds) }
    }

    private static func maintenance(notBefore: EventTime, notAfter: EventTime) -> MaintenanceNotice {
        MaintenanceNotice(
            eventID: "instance-event-0d59937288b749b32", code: "system-reboot", description: "scheduled reboot",
            state: "active", notBefore: notBefore, notAfter: notAfter, notBeforeDeadline: nil
        )
    }
}
