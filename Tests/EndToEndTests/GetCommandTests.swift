import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

@Suite struct GetCommandTests {
    @Test func closedPortFailsFastNamingTheEndpoint() async throws {
        let outcome = try await ProcessRunner.imdswatch([
            "get", "meta-data/instance-id", "--endpoint", "http://127.0.0.1:9",
        ])
        #expect(outcome.status != 0)
        // Fast: it gives up on the refused connection, and does not wait for a timeout.
        #expect(outcome.stderr.contains("connection refused"), "\(outcome.stderr)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(outcome.stderr)")
        #expect(outcome.stderr.contains("http://127.0.0.1:9"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func disabledByEnvironmentIsOneLine() async throws {
        let outcome = try await ProcessRunner.imdswatch(
            ["get", "meta-data/instance-id", "--endpoint", "http://127.0.0.1:9"],
            environment: ["AWS_EC2_METADATA_DISABLED": "true"]
        )
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("AWS_EC2_METADATA_DISABLED"))
    }

    @Test func invalidEndpointIsNamed() async throws {
        let outcome = try await ProcessRunner.imdswatch(["get", "meta-data/instance-id", "--endpoint", "ftp//nowhere"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("ftp//nowhere"))
    }

    @Test func printsValuesListsDirectoriesAndEmbedsJSON() async throws {
        var state = SimulatorState()
        state.spot = SpotNotice(action: .terminate, time: Date(timeIntervalSince1970: 1_795_953_600))
        try await withSimulator(state: state) { simulator in
            let plain = try await ProcessRunner.imdswatch([
                "get", "meta-data/instance-id", "meta-data/placement/region", "--endpoint", simulator.baseURL,
            ])
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stdout == "i-0123456789abcdef0\neu-west-1\n")

            let listing = try await ProcessRunner.imdswatch(["get", "meta-data/", "--endpoint", simulator.baseURL])
            #expect(listing.stdout.split(separator: "\n").contains("spot/"))

            let json = try await ProcessRunner.imdswatch([
                "get", "--json", "meta-data/instance-id", "meta-data/spot/instance-action", "--endpoint",
                simulator.baseURL,
            ])
            #expect(json.status == 0)
            let parsed = try JSONDocument.parse(json.stdout)
            #expect(parsed["meta-data/instance-id"] == "i-0123456789abcdef0")
            #expect(
                parsed["meta-data/spot/instance-action"]?["action"] == "terminate",
                "a JSON document is embedded as JSON")
            #expect(simulator.statistics.tokenRequests == 3, "one token per command")
        }
    }

    @Test func missingPathExitsOneNamingIt() async throws {
        try await withSimulator { simulator in
            let outcome = try await ProcessRunner.imdswatch([
                "get", "meta-data/instance-id", "meta-data/nope", "--endpoint", simulator.baseURL,
            ])
            #expect(outcome.status == 1)
            #expect(outcome.stderr.contains("meta-data/nope"))
            #expect(outcome.stdout == "i-0123456789abcdef0\n", "the paths that exist are still printed")
        }
    }
}
