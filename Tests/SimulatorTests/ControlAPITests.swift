import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("Control API")
struct ControlAPITests {
    private func object(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    @Test func stateRoundTripsThroughGetAndPut() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let initial = try object(try await client.control(.get, "/_sim/state"))
            #expect(initial["instanceId"] as? String == "i-0123456789abcdef0")
            let patch =
                #"{"asgState": "Standby", "spot": {"action": "stop", "time": "2030-01-01T00:00:00Z"}, "tags": [{"key": "a", "value": "b"}]}"#
            let put = try await client.control(.put, "/_sim/state", json: patch)
            #expect(put.status == 200)
            #expect(simulator.state.asgState == "Standby")
            #expect(simulator.state.spot?.action == .stop)
            #expect(simulator.state.tags == [InstanceTag("a", "b")])
            #expect(simulator.state.instanceId == "i-0123456789abcdef0")
            let after = try object(try await client.control(.get, "/_sim/state"))
            #expect((after["spot"] as? [String: Any])?["time"] as? String == "2030-01-01T00:00:00Z")

            #expect(try await client.control(.put, "/_sim/state", json: #"{"spot": null}"#).status == 200)
            #expect(simulator.state.spot == nil)
            #expect(try await client.control(.post, "/_sim/state/reset").status == 200)
            #expect(simulator.state.asgState == nil)
        }
    }

    @Test(arguments: [
        "{not json", #"{"noSuchField": 1}"#, #"{"spot": {"action": "explode"}}"#, #"{"maxTokenTTL": "ten"}"#,
        #"{"rebalance": "yesterday"}"#, "[1, 2]",
    ])
    func badStateInputIs400WithOneLineJSONError(body: String) async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let before = simulator.state
            let response = try await client.control(.put, "/_sim/state", json: body)
            #expect(response.status == 400)
            #expect(response.bodyText.hasPrefix("{\"error\": "))
            #expect(response.bodyText.dropLast().contains("\n") == false)
            #expect(try object(response)["error"] is String)
            #expect(simulator.state == before)
        }
    }

    @Test func relativeDatesAreSecondsFromNow() async throws {
        try await withSimulator { simulator async throws in
            let sent = Date()
            let response = try await SimulatorClient(simulator).control(
                .put, "/_sim/state", json: #"{"rebalance": 60}"#)
            let answered = Date()
            #expect(response.status == 200)
            let rebalance = try #require(simulator.state.rebalance)
            // 60 s after the moment the simulator handled the request, which lies between sending and the answer,
            // in whole seconds (up to 1 s of rounding either way). A loaded machine widens the window, not the error.
            let earliest = sent.addingTimeInterval(59)
            let latest = answered.addingTimeInterval(61)
            #expect(rebalance >= earliest && rebalance <= latest, "\(rebalance) not within [\(earliest), \(latest)]")
        }
    }

    @Test func faultsCanBeAddedListedAndCleared() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let added = try await client.control(
                .post, "/_sim/faults", json: #"{"path": "meta-data/", "kind": "status", "status": 503, "count": 1}"#)
            #expect(added.status == 200)
            #expect(simulator.faults == [.status(503, on: "meta-data/", count: 1)])
            let more = try await client.control(
                .post, "/_sim/faults",
                json: #"[{"path": "api/token", "kind": "delay", "seconds": 0.1}, {"kind": "oversized", "bytes": 10}]"#)
            #expect(more.status == 200)
            #expect(simulator.faults.count == 3)
            let listed = try await client.control(.get, "/_sim/faults")
            #expect(listed.bodyText.contains("\"kind\":\"delay\""))
            #expect(try await client.control(.post, "/_sim/faults", json: #"{"kind": "explode"}"#).status == 400)
            #expect(try await client.control(.post, "/_sim/faults", json: #"{"kind": "status"}"#).status == 400)
            #expect(try await client.control(.post, "/_sim/faults/clear").status == 200)
            #expect(simulator.faults.isEmpty)
        }
    }

    @Test func tokensInvalidateAndStatsCount() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/instance-id", token: token).status == 200)
            #expect(try await client.control(.post, "/_sim/tokens/invalidate").status == 200)
            #expect(try await client.get("meta-data/instance-id", token: token).status == 401)
            let stats = try object(try await client.control(.get, "/_sim/stats"))
            #expect(stats["tokenRequests"] as? Int == 1)
            #expect(stats["getRequests"] as? Int == 2)
            #expect((stats["requestsByPath"] as? [String: Int])?["meta-data/instance-id"] == 2)
            #expect((stats["responsesByStatus"] as? [String: Int])?["401"] == 1)
            #expect(try await client.control(.post, "/_sim/stats/reset").status == 200)
            #expect(simulator.statistics.getRequests == 0)
        }
    }

    @Test func unknownEndpointsAndMethodsAreJSONErrors() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            #expect(try await client.control(.get, "/_sim/nothing").status == 404)
            #expect(try await client.control(.post, "/_sim/state", json: "{}").status == 405)
            #expect(try await client.control(.get, "/_sim/").status == 200)
        }
    }

    @Test func scenarioCanBeStartedOverTheControlAPI() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let started = try await client.control(
                .post, "/_sim/scenario", json: #"{"steps": [{"at": 0.1, "set": {"asgState": "Terminated"}}]}"#)
            #expect(started.status == 202)
            try await Task.sleep(for: .milliseconds(500))
            #expect(simulator.state.asgState == "Terminated")
            #expect(try await client.control(.post, "/_sim/scenario", json: #"{"steps": [{"at": -1}]}"#).status == 400)
        }
    }
}
