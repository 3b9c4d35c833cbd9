import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("Metadata paths and formats")
struct MetadataPathTests {
    /// Fetches `paths` with one token and returns the responses.
    private func fetch(_ state: SimulatorState, _ paths: [String]) async throws -> [String: HTTPResponse] {
        try await withSimulator(state: state) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            var responses: [String: HTTPResponse] = [:]
            for path in paths {
                responses[path] = try await client.get(path, token: token)
            }
            return responses
        }
    }

    @Test func servesIdentityPathsAsPlainText() async throws {
        let expected = [
            "meta-data/instance-id": "i-0123456789abcdef0",
            "meta-data/instance-type": "m5.large",
            "meta-data/ami-id": "ami-0abcdef1234567890",
            "meta-data/local-ipv4": "10.0.1.23",
            "meta-data/hostname": "ip-10-0-1-23.eu-west-1.compute.internal",
            "meta-data/placement/availability-zone": "eu-west-1b",
            "meta-data/placement/region": "eu-west-1",
        ]
        let responses = try await fetch(SimulatorState(), Array(expected.keys))
        for (path, body) in expected {
            #expect(responses[path]?.status == 200, "\(path)")
            #expect(responses[path]?.bodyText == body, "\(path)")
            #expect(responses[path]?.header("Content-Type") == "text/plain", "\(path)")
        }
    }

    @Test(arguments: ResponseStyle.allCases)
    func identityDocumentHasTheIdentityFields(style: ResponseStyle) async throws {
        let state = SimulatorState(
            instanceId: "i-0fedcba9876543210", instanceType: "c6g.xlarge", region: "us-east-2",
            availabilityZone: "us-east-2c", accountId: "210987654321", style: style)
        let response = try #require(try await fetch(state, ["dynamic/instance-identity/document"]).values.first)
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == (style == .real ? "text/plain" : "application/json"))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(document["instanceId"] as? String == "i-0fedcba9876543210")
        #expect(document["instanceType"] as? String == "c6g.xlarge")
        #expect(document["region"] as? String == "us-east-2")
        #expect(document["availabilityZone"] as? String == "us-east-2c")
        #expect(document["accountId"] as? String == "210987654321")
        #expect(document["kernelId"] is NSNull)
        #expect(response.bodyText.contains(style == .real ? "\n  \"accountId\" : " : "\n\t\"accountId\": "))
    }

    @Test func spotNoticeInRealStyle() async throws {
        let time = try #require(ISO8601DateFormatter().date(from: "2017-09-18T08:22:00Z"))
        let state = SimulatorState(spot: SpotNotice(action: .hibernate, time: time))
        let responses = try await fetch(state, ["meta-data/spot/instance-action", "meta-data/spot/termination-time"])
        #expect(
            responses["meta-data/spot/instance-action"]?.bodyText
                == #"{"action": "hibernate", "time": "2017-09-18T08:22:00Z"}"#)
        #expect(responses["meta-data/spot/instance-action"]?.header("Content-Type") == "text/plain")
        #expect(responses["meta-data/spot/termination-time"]?.bodyText == "2017-09-18T08:22:00Z")
    }

    @Test func spotNoticeInAEMMStyleIsTabIndentedJSON() async throws {
        let time = try #require(ISO8601DateFormatter().date(from: "2017-09-18T08:22:00Z"))
        let state = SimulatorState(spot: SpotNotice(action: .stop, time: time), style: .aemm)
        let response = try #require(try await fetch(state, ["meta-data/spot/instance-action"]).values.first)
        #expect(response.bodyText == "{\n\t\"action\": \"stop\",\n\t\"time\": \"2017-09-18T08:22:00Z\"\n}")
        #expect(response.header("Content-Type") == "application/json")
    }

    @Test func rollingSpotTimeIsNowPlusTwoMinutes() async throws {
        let state = SimulatorState(spot: SpotNotice(time: Date(timeIntervalSince1970: 0), rolling: true))
        // Checked against the window in which the request was made (whole seconds served), not against "now".
        let before = Date()
        let response = try #require(try await fetch(state, ["meta-data/spot/instance-action"]).values.first)
        let after = Date()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
        let served = try #require(object["time"].flatMap { ISO8601DateFormatter().date(from: $0) })
        #expect(served.timeIntervalSince(before) >= 119, "\(served) vs request at \(before)")
        #expect(served.timeIntervalSince(after) <= 121, "\(served) vs answer at \(after)")
    }

    @Test func absentNoticesAre404WithXHTMLBodies() async throws {
        let paths = [
            "meta-data/spot/instance-action", "meta-data/spot/termination-time",
            "meta-data/events/recommendations/rebalance", "meta-data/autoscaling/target-lifecycle-state",
            "meta-data/no-such-thing",
        ]
        let responses = try await fetch(SimulatorState(), paths)
        for path in paths {
            #expect(responses[path]?.status == 404, "\(path)")
            #expect(responses[path]?.bodyText.contains("<title>404 - Not Found</title>") == true, "\(path)")
        }
    }

    @Test func rebalanceRecommendation() async throws {
        let time = try #require(ISO8601DateFormatter().date(from: "2020-10-27T08:22:00Z"))
        let response = try #require(
            try await fetch(SimulatorState(rebalance: time), ["meta-data/events/recommendations/rebalance"]).values
                .first)
        #expect(response.bodyText == #"{"noticeTime": "2020-10-27T08:22:00Z"}"#)
    }

    @Test func scheduledEventsUseTheEventDateFormat() async throws {
        let notBefore = try #require(ISO8601DateFormatter().date(from: "2019-01-21T09:00:43Z"))
        let event = MaintenanceEvent(
            eventId: "instance-event-0d59937288b749b32", notBefore: notBefore,
            notAfter: notBefore.addingTimeInterval(1000), notBeforeDeadline: notBefore.addingTimeInterval(86_400 * 7)
        )
        let responses = try await fetch(
            SimulatorState(scheduledEvents: [event]), ["meta-data/events/maintenance/scheduled"])
        #expect(
            responses.values.first?.bodyText == """
                [{"NotBefore": "21 Jan 2019 09:00:43 GMT", "Code": "system-reboot", "Description": "scheduled reboot", \
                "EventId": "instance-event-0d59937288b749b32", "NotAfter": "21 Jan 2019 09:17:23 GMT", "State": "active", \
                "NotBeforeDeadline": "28 Jan 2019 09:00:43 GMT"}]
                """)
    }

    @Test func maintenanceHistoryListsPastEvents() async throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let past = MaintenanceEvent(
            eventId: "instance-event-1", description: "[Completed] scheduled reboot",
            state: "completed", notBefore: date, notAfter: date)
        let responses = try await fetch(
            SimulatorState(maintenanceHistory: [past]), ["meta-data/events/maintenance/history"])
        let response = try #require(responses.values.first)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: String]])
        #expect(list.map { $0["State"] } == ["completed"])
        #expect(list.first?["NotBefore"] == "14 Nov 2023 22:13:20 GMT")
    }

    @Test func noEventsIsAnEmptyArrayForRealAnd404ForAEMM() async throws {
        let paths = ["meta-data/events/maintenance/scheduled", "meta-data/events/maintenance/history"]
        let real = try await fetch(SimulatorState(style: .real), paths)
        let aemm = try await fetch(SimulatorState(style: .aemm), paths)
        let forced = try await fetch(SimulatorState(noEvents: .notFound, style: .real), paths)
        for path in paths {
            #expect(real[path]?.status == 200, "\(path)")
            #expect(real[path]?.bodyText == "[]", "\(path)")
            #expect(aemm[path]?.status == 404, "\(path)")
            #expect(forced[path]?.status == 404, "\(path)")
        }
    }

    @Test func autoscalingTargetLifecycleState() async throws {
        let response = try #require(
            try await fetch(
                SimulatorState(asgState: "Warmed:Hibernated"),
                ["meta-data/autoscaling/target-lifecycle-state"]
            ).values.first)
        #expect(response.status == 200)
        #expect(response.bodyText == "Warmed:Hibernated")
    }

    @Test func tagKeysAreListedInOrderAndValuesAreRawUTF8() async throws {
        let tags = [
            InstanceTag("Name", "web-1"), InstanceTag("team:owner", "Zoë ✓ «ops»"),
            InstanceTag("Env", "line one\nline two"),
        ]
        let paths = [
            "meta-data/tags/instance", "meta-data/tags/instance/team:owner", "meta-data/tags/instance/Env",
            "meta-data/tags/instance/Missing",
        ]
        let responses = try await fetch(SimulatorState(tags: tags), paths)
        #expect(responses["meta-data/tags/instance"]?.bodyText == "Name\nteam:owner\nEnv")
        #expect(responses["meta-data/tags/instance/team:owner"]?.bodyText == "Zoë ✓ «ops»")
        #expect(responses["meta-data/tags/instance/Env"]?.bodyText == "line one\nline two")
        #expect(responses["meta-data/tags/instance/Missing"]?.status == 404)
    }

    @Test func disabledTagsAre404() async throws {
        let responses = try await fetch(
            SimulatorState(tagsEnabled: false), ["meta-data/tags/instance", "meta-data/tags/instance/Name"])
        #expect(responses["meta-data/tags/instance"]?.status == 404)
        #expect(responses["meta-data/tags/instance/Name"]?.status == 404)
    }

    @Test func liveUpdatesShowOnTheNextRequest() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/autoscaling/target-lifecycle-state", token: token).status == 404)
            simulator.update {
                $0.asgState = "InService"
                $0.setTag("Name", "renamed")
            }
            #expect(
                try await client.get("meta-data/autoscaling/target-lifecycle-state", token: token).bodyText
                    == "InService")
            #expect(try await client.get("meta-data/tags/instance/Name", token: token).bodyText == "renamed")
        }
    }
}
