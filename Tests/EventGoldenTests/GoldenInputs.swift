import Events
import Foundation
import IMDS
import Watch

/// One event and the name of its golden files.
struct GoldenCase: Sendable, CustomStringConvertible {
    var name: String
    var event: Event
    var description: String { name }
}

/// Realistic events: IMDS bodies as the service and AEMM write them, decoded and fed to the real change detection,
/// plus the synthetic events of `hooks test`.
enum GoldenInputs {
    static let instance = InstanceInfo(
        instanceID: "i-0a1b2c3d4e5f60718", instanceType: "c6i.xlarge", region: "eu-central-1",
        availabilityZone: "eu-central-1a", accountID: "210987654321"
    )
    static let start: Int64 = 1_795_000_000_123

    /// Every case, detected and synthetic.
    static let all: [GoldenCase] = detected() + synthetic()

    static func synthetic() -> [GoldenCase] {
        SyntheticEvents.all(nowMilliseconds: 1_764_460_800_042).map {
            GoldenCase(name: "synthetic-\($0.type.rawValue)", event: $0)
        }
    }

    // The inputs are fixed literals that decode; a failure here is a broken fixture, caught by the count checks.
    static func detected() -> [GoldenCase] {
        var machine = WatchStateMachine()
        var clock = start
        var cases: [GoldenCase] = []
        func observe(_ source: MetadataSource, _ observation: Observation) -> [Event] {
            clock += 1_007
            return machine.observe(source, observation, instance: instance, detectedAtMilliseconds: clock).events
        }
        func keep(_ name: String, _ events: [Event]) {
            for (index, event) in events.enumerated() {
                cases.append(GoldenCase(name: events.count == 1 ? name : "\(name)-\(index + 1)", event: event))
            }
        }
        let tagsBefore = [
            "Name": "web-1", "Environment": "staging", "aws:autoscaling:groupName": "web-asg", "temporary": "yes",
        ]
        _ = observe(.tags, .value(.tags(tagsBefore)))
        let firstState = observe(.asg, .value(.asg("InService")))
        keep("asg-lifecycle-state-first", firstState)
        for event in firstState {
            cases.append(
                GoldenCase(
                    name: "asg-lifecycle-state-first-group-unknown", event: enriched(event, group: nil, hook: nil)))
        }
        let terminating = observe(.asg, .value(.asg("Terminating:Wait")))
        for event in terminating {
            cases.append(
                GoldenCase(
                    name: "asg-lifecycle-state-terminating", event: enriched(event, group: "web-asg", hook: "drain")))
            cases.append(
                GoldenCase(
                    name: "asg-lifecycle-state-terminating-no-hook", event: enriched(event, group: "web-asg", hook: nil)
                ))
        }
        if let notice = try? SpotInterruption.decode(
            "{\n\t\"action\": \"Terminate\",\n\t\"time\": \"2026-11-24T13:00:00.512+01:00\"\n}")
        {
            keep("spot-interruption", observe(.spot, .value(.spot(notice))))
        }
        if let recommendation = try? RebalanceNotice.decode(#"{"noticeTime":"2026-11-24T11:50:00Z"}"#) {
            keep("rebalance-recommendation", observe(.rebalance, .value(.rebalance(recommendation))))
        }
        let listed = """
            [ {
              "NotBefore" : "21 Jan 2030 09:00:43 GMT",
              "Code" : "system-reboot",
              "Description" : "The instance is scheduled for \\"reboot\\" \\u2014 h\\u00f4te\\n",
              "EventId" : "instance-event-0d59937288b749b32",
              "NotAfter" : "21 Jan 2030 09:17:23 GMT",
              "State" : "active"
            }, {
              "NotBefore" : "2030-02-01T00:00:00Z",
              "Code" : "instance-retirement",
              "Description" : "retirement",
              "EventId" : "instance-event-1e60a48399c85ac43",
              "NotAfter" : "2030-02-01T06:00:00Z",
              "NotBeforeDeadline" : "2030-02-08T00:00:00Z",
              "State" : "active"
            } ]
            """
        let rescheduled = listed.replacingOccurrences(of: "21 Jan 2030 09:00:43 GMT", with: "23 Jan 2030 10:00:00 GMT")
        if let events = try? MaintenanceNotice.decodeList(listed),
            let moved = try? MaintenanceNotice.decodeList(rescheduled)
        {
            keep("maintenance-scheduled", observe(.maintenance, .value(.maintenance(events))))
            keep("maintenance-changed", observe(.maintenance, .value(.maintenance(moved))))
            keep("maintenance-cleared", observe(.maintenance, .value(.maintenance(Array(moved.prefix(1))))))
        }
        var tagsAfter = tagsBefore
        tagsAfter["Environment"] = "production"
        tagsAfter["temporary"] = nil
        tagsAfter["maintenance-window"] = "sun-02:00"
        tagsAfter["quote\"key"] = "line\nbreak \u{1}"
        keep("tags-changed", observe(.tags, .value(.tags(tagsAfter))))
        return cases
    }

    /// The event as the lifecycle stage hands it on (`group`, `lifecycle_hook` added).
    static func enriched(_ event: Event, group: String?, hook: String?) -> Event {
        var enriched = event
        enriched.lifecycleTarget = LifecycleTarget(group: group, hook: group == nil ? nil : hook)
        return enriched
    }
}
