/// Realistic events made up for `imdswatch hooks test` and the demo: the same shape as detected ones, with
/// `"synthetic": true`.
public enum SyntheticEvents {
    /// The instance synthetic events are about.
    public static let instance = InstanceInfo(
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
    public static func event(
        _ type: EventType,
        nowMilliseconds: Int64,
        instance: InstanceInfo = SyntheticEvents.instance
    ) -> Event {
        let now = nowMilliseconds / 1000
        func time(_ offset: Int64) -> JSONValue { .string(Timestamp.rfc3339(seconds: now + offset)) }
        let day: Int64 = 86_400
        let data: JSONValue
        var previous: JSONValue = .null
        switch type {
        case .spotInterruption:
            data = ["action": "terminate", "time": time(120)]
        case .rebalanceRecommendation:
            data = ["notice_time": time(0)]
        case .maintenanceScheduled, .maintenanceCleared:
            data = maintenance(state: "active", notBefore: time(7 * day), notAfter: time(7 * day + 7200))
        case .maintenanceChanged:
            data = maintenance(state: "active", notBefore: time(9 * day), notAfter: time(9 * day + 7200))
            previous = maintenance(state: "active", notBefore: time(7 * day), notAfter: time(7 * day + 7200))
        case .asgLifecycleState:
            data = ["state": "Terminated", "group": "web-asg", "lifecycle_hook": .null]
            previous = ["state": "InService"]
        case .tagsChanged:
            data = [
                "added": ["maintenance-window": "sun-02:00"],
                "removed": ["temporary": "yes"],
                "changed": ["Environment": ["from": "staging", "to": "production"]],
                "tags": [
                    "Name": "web-1",
                    "Environment": "production",
                    "aws:autoscaling:groupName": "web-asg",
                    "maintenance-window": "sun-02:00",
                ],
            ]
        }
        return Event(
            id: "synthetic-\(type.rawValue)-\(nowMilliseconds)",
            type: type,
            detectedAtMilliseconds: nowMilliseconds,
            instance: instance,
            data: data,
            previous: previous,
            synthetic: true
        )
    }

    /// One synthetic event of every type, in `EventType.allCases` order.
    public static func all(nowMilliseconds: Int64) -> [Event] {
        EventType.allCases.map { event($0, nowMilliseconds: nowMilliseconds) }
    }

    private static func maintenance(state: String, notBefore: JSONValue, notAfter: JSONValue) -> JSONValue {
        [
            "event_id": "instance-event-0d59937288b749b32",
            "code": "system-reboot",
            "description": "scheduled reboot",
            "state": .string(state),
            "not_before": notBefore,
            "not_after": notAfter,
            "not_before_deadline": .null,
        ]
    }
}
