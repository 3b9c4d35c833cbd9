import Foundation
import IMDSWatchTestKit
import Simulator
import Synchronization
import Testing

@Suite("Scenarios")
struct ScenarioTests {
    /// The example in docs/simulator.md, kept in sync by this test.
    static let documentedExample = """
        {
          "steps": [
            {"at": 0, "note": "in service", "set": {"asgState": "InService"}},
            {"at": 1, "note": "rebalance recommendation", "set": {"rebalance": "2026-11-24T12:00:00Z"}},
            {"at": 2, "note": "maintenance scheduled", "set": {"scheduledEvents": [
              {"eventId": "instance-event-0123456789abcdef0", "code": "system-reboot", "description": "scheduled reboot",
               "state": "active", "notBefore": "21 Jan 2027 09:00:43 GMT", "notAfter": "21 Jan 2027 11:00:43 GMT"}]}},
            {"at": 3, "note": "IMDS flaps", "fault": {"path": "meta-data/spot/", "kind": "status", "status": 503, "count": 2}},
            {"at": 4, "note": "spot interruption in two minutes", "set": {"spot": {"action": "terminate", "time": 120}}},
            {"at": 5, "note": "tokens rotated", "invalidateTokens": true},
            {"at": 6, "note": "tag renamed", "set": {"tags": [{"key": "Name", "value": "draining"}]}},
            {"at": 7, "note": "leaving the group", "set": {"asgState": "Terminated"}, "clearFaults": true}
          ]
        }
        """

    @Test func decodesTheDocumentedExample() throws {
        let scenario = try Scenario(json: Array(Self.documentedExample.utf8))
        #expect(scenario.steps.count == 8)
        #expect(scenario.steps[3].fault == .status(503, on: "meta-data/spot/", count: 2))
        #expect(scenario.steps[5].invalidateTokens == true)
        #expect(scenario.orderedSteps.map(\.at) == [0, 1, 2, 3, 4, 5, 6, 7])
    }

    @Test func playsStepsInOrderAtTheirTimes() async throws {
        let json = """
            {"steps": [
              {"at": 0.6, "note": "third", "set": {"asgState": "Terminated"}},
              {"at": 0.1, "note": "first", "set": {"asgState": "InService", "rebalance": 30}},
              {"at": 0.3, "note": "second", "set": {"asgState": "Standby"}, "fault": {"path": "meta-data/", "kind": "status", "status": 500}}
            ]}
            """
        let scenario = try Scenario(json: Array(json.utf8))
        try await withSimulator { simulator async throws in
            let seen = Mutex<[(String, String?, Duration)]>([])
            let clock = ContinuousClock()
            let start = clock.now
            try await simulator.play(scenario) { step in
                let asg = simulator.state.asgState
                seen.withLock { $0.append((step.note ?? "", asg, clock.now - start)) }
            }
            let steps = seen.withLock { $0 }
            #expect(steps.map(\.0) == ["first", "second", "third"])
            #expect(steps.map(\.1) == ["InService", "Standby", "Terminated"])
            #expect(steps[0].2 >= .milliseconds(90))
            #expect(steps[2].2 >= .milliseconds(590))
            #expect(simulator.faults == [.status(500, on: "meta-data/")])
            #expect(simulator.state.rebalance != nil)
        }
    }

    @Test func invalidScenariosNameTheProblem() throws {
        #expect(throws: SimulatorInputError.self) { try Scenario(json: Array(#"{"steps": [{"at": -1}]}"#.utf8)) }
        do {
            _ = try Scenario(json: Array(#"{"steps": [{"at": 1, "set": {"asgStat": "InService"}}]}"#.utf8))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("asgStat"))
            #expect(error.message.contains("step 0"))
        }
        #expect(throws: SimulatorInputError.self) { try Scenario(json: Array("{}".utf8)) }
        #expect(throws: SimulatorInputError.self) { try Scenario.load(path: "/nonexistent/scenario.json") }
    }
}
