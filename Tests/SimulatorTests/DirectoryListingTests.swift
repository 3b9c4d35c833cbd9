import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("Directory listings")
struct DirectoryListingTests {
    private let fullState = SimulatorState(spot: SpotNotice(), rebalance: .now, asgState: "InService")

    @Test func metaDataListsEntriesWithSlashesOnSubdirectories() async throws {
        try await withSimulator(state: fullState) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            let listing = try await client.get("meta-data/", token: token)
            #expect(listing.status == 200)
            let entries = listing.bodyText.split(separator: "\n").map(String.init)
            #expect(entries.contains("instance-id"))
            #expect(entries.contains("events/"))
            #expect(entries.contains("spot/"))
            #expect(entries.contains("autoscaling/"))
            #expect(entries.contains("tags/"))
            #expect(entries.contains("placement/"))
            #expect(entries == entries.sorted())
            #expect(!listing.bodyText.hasSuffix("\n"))
            #expect(try await client.get("meta-data", token: token).bodyText == listing.bodyText)
        }
    }

    @Test func nestedDirectories() async throws {
        try await withSimulator(state: fullState) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(
                try await client.get("meta-data/events/", token: token).bodyText == "maintenance/\nrecommendations/")
            #expect(
                try await client.get("meta-data/events/maintenance/", token: token).bodyText == "history\nscheduled")
            #expect(
                try await client.get("meta-data/spot/", token: token).bodyText == "instance-action\ntermination-time")
            #expect(
                try await client.get("meta-data/placement/", token: token).bodyText
                    == "availability-zone\navailability-zone-id\nregion")
            #expect(try await client.get("dynamic/", token: token).bodyText == "instance-identity/")
            #expect(
                try await client.get("dynamic/instance-identity/", token: token).bodyText
                    == "document\npkcs7\nrsa2048\nsignature")
            #expect(try await client.get("/latest/", token: token).bodyText == "dynamic\nmeta-data\nuser-data")
        }
    }

    @Test func absentSourcesLeaveTheListing() async throws {
        try await withSimulator(state: SimulatorState(tagsEnabled: false)) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            let entries = try await client.get("meta-data/", token: token).bodyText.split(separator: "\n")
            #expect(!entries.contains("spot/"))
            #expect(!entries.contains("tags/"))
            #expect(!entries.contains("autoscaling/"))
            #expect(try await client.get("meta-data/events/", token: token).bodyText == "maintenance/")
        }
    }

    @Test func aemmStripsTrailingSlashes() async throws {
        var state = fullState
        state.style = .aemm
        try await withSimulator(state: state) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            let entries = try await client.get("meta-data", token: token).bodyText.split(separator: "\n")
            #expect(entries.contains("events"))
            #expect(entries.contains("spot"))
            #expect(!entries.contains { $0.hasSuffix("/") })
        }
    }

    @Test func versionedPathsServeTheSameTree() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(
                try await client.get("/2021-01-03/meta-data/instance-id", token: token).bodyText
                    == "i-0123456789abcdef0")
            #expect(try await client.get("/bogus/meta-data/instance-id", token: token).status == 404)
        }
    }

    @Test(arguments: [
        (ResponseStyle.real, TagsListing.bare, "instance"), (.real, .slash, "instance/"), (.aemm, .slash, "instance"),
    ])
    func tagsListTheKeyListAsConfigured(style: ResponseStyle, listing: TagsListing, expected: String) async throws {
        var state = SimulatorState(style: style)
        state.tagsListing = listing
        try await withSimulator(state: state) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/tags/", token: token).bodyText == expected)
            #expect(try await client.get("meta-data/tags/instance", token: token).bodyText == "Name")
            #expect(try await client.get("meta-data/tags/instance/", token: token).bodyText == "Name")
        }
    }

    @Test func tagsListingIsAStateField() async throws {
        try await withSimulator { simulator async throws in
            #expect(simulator.state.tagsListing == .bare, "the real service's form by default")
            let client = SimulatorClient(simulator)
            #expect(try await client.control(.put, "/_sim/state", json: #"{"tagsListing": "instance/"}"#).status == 200)
            #expect(simulator.state.tagsListing == .slash)
            #expect(
                try await client.control(.put, "/_sim/state", json: #"{"tagsListing": "instance//"}"#).status == 400)
        }
    }
}
