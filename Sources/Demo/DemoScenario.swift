import Events
import Foundation
import Simulator

/// The demo's script: what IMDS shows, step by step, and which event each step must fire. Every event type
/// appears; the spot interruption comes last, as it would on a real instance.
///
/// Dates are written as seconds from now (the simulator's relative form), so the events are always in the future.
struct DemoScenario: Sendable {
    /// One step: a change of what IMDS shows, and the events it must fire.
    struct Step: Sendable {
        /// The simulator step (its `note` is printed on the timeline; `at` is unused: the demo paces itself).
        var step: Scenario.Step
        /// The event types this step must fire, in any order.
        var expects: [EventType]
    }

    /// The state IMDS shows before the watcher starts; it must fire these events once the watcher runs.
    var initial: Step
    /// The changes, in order.
    var steps: [Step]

    /// Every event type the scenario expects, with how often.
    var expectedCounts: [EventType: Int] {
        ([initial] + steps).flatMap(\.expects).reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// The Auto Scaling group name, in the instance's `aws:autoscaling:groupName` tag.
    static let groupName = "demo-asg"
    /// The group's termination lifecycle hook, completed by imdswatch after the drain.
    static let lifecycleHook = "demo-termination-hook"
    /// The maintenance event's id.
    static let maintenanceEventID = "instance-event-0d59937288b749b32"

    /// The demo's script.
    /// - Throws: ``DemoError`` when a step's patch is not valid JSON (a programming error, caught by the tests).
    static func standard() throws -> DemoScenario {
        let maintenance = { (notBefore: Int) in
            """
            {"scheduledEvents": [{"eventId": "\(maintenanceEventID)", "code": "system-reboot",
              "description": "scheduled reboot", "state": "active",
              "notBefore": \(notBefore), "notAfter": \(notBefore + 7200)}]}
            """
        }
        let day = 86_400
        return DemoScenario(
            initial: try step(
                "instance i-0123456789abcdef0 is InService in Auto Scaling group \(groupName), tags Name=web-1",
                #"{"asgState": "InService", "tags": [{"key": "Name", "value": "web-1"},"#
                    + #"{"key": "aws:autoscaling:groupName", "value": "\#(groupName)"}]}"#,
                expects: [.asgLifecycleState]
            ),
            steps: [
                try step(
                    "tags edited: Name web-1 -> web-1-blue, team=payments added",
                    #"{"tags": [{"key": "Name", "value": "web-1-blue"},"#
                        + #"{"key": "aws:autoscaling:groupName", "value": "\#(groupName)"},"#
                        + #"{"key": "team", "value": "payments"}]}"#,
                    expects: [.tagsChanged]
                ),
                try step(
                    "maintenance scheduled: system-reboot in 7 days", maintenance(7 * day),
                    expects: [.maintenanceScheduled]
                ),
                try step(
                    "maintenance rescheduled: system-reboot in 14 days", maintenance(14 * day),
                    expects: [.maintenanceChanged]
                ),
                try step(
                    "maintenance cancelled: the scheduled list is empty again", #"{"scheduledEvents": []}"#,
                    expects: [.maintenanceCleared]
                ),
                try step(
                    "rebalance recommendation: this spot instance is at elevated risk", #"{"rebalance": 0}"#,
                    expects: [.rebalanceRecommendation]
                ),
                try step(
                    "Auto Scaling scale-in: target lifecycle state Terminated", #"{"asgState": "Terminated"}"#,
                    expects: [.asgLifecycleState]
                ),
                try step(
                    "spot interruption notice: terminate in 2 minutes",
                    #"{"spot": {"action": "terminate", "time": 120}}"#,
                    expects: [.spotInterruption]
                ),
            ]
        )
    }

    private static func step(_ note: String, _ patch: String, expects: [EventType]) throws -> Step {
        let value: PatchValue
        do {
            value = try JSONDecoder().decode(PatchValue.self, from: Data(patch.utf8))
        } catch {
            throw DemoError("the demo scenario's step \"\(note)\" is not valid JSON: \(error)")
        }
        return Step(step: Scenario.Step(at: 0, note: note, set: value), expects: expects)
    }
}
