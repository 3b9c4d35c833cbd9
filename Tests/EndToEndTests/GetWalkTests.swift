import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// `imdswatch get --all`, `--list` and `--match` against what the real service does and the simulator did not
/// (issue 22): a limit on simultaneous connections, the tag keys listed without a trailing `/`, a root that answers
/// 404.
@Suite struct GetWalkTests {
    static let modes: [[String]] = [["--all"], ["--list"], ["--match", "placement/|tags/"]]

    @Test func theWalkKeepsWithinFourConnectionsAgainstAServiceThatLimitsThem() async throws {
        // At most 4 connections open at once, 5 more queued; beyond that the kernel drops the SYN (connect timeout).
        try await withSimulator(limits: ListenerLimits(backlog: 5, connectionLimit: 4)) { simulator in
            for mode in Self.modes {
                simulator.resetStatistics()
                let outcome = try await ProcessRunner.imdswatch(["get"] + mode + ["--endpoint", simulator.baseURL])
                #expect(outcome.status == 0, "\(mode): \(outcome.stderr)")
                #expect(outcome.stderr.isEmpty, "\(mode): \(outcome.stderr)")
                let stats = simulator.statistics
                #expect(stats.connectionsAccepted <= 4, "\(mode): \(stats.connectionsAccepted) connections")
                #expect(stats.tokenRequests == 1)
                if mode == ["--all"] {
                    let tree = try JSONDocument.parse(outcome.stdout)
                    #expect(tree["meta-data"]?["placement"]?["region"] == "eu-west-1")
                    #expect(stats.getRequests > 4 * stats.connectionsAccepted, "connections are kept alive and reused")
                }
            }
        }
    }

    @Test func imdswatchSimulateTakesTheConnectionLimitAndTheBacklog() async throws {
        let simulator = try BackgroundProcess(
            ProcessRunner.imdswatchPath,
            [
                "simulate", "--listen", "127.0.0.1:0", "--connection-limit", "4", "--listen-backlog", "5",
            ])
        defer { simulator.signal(SIGKILL) }
        let prefix = "imdswatch simulator listening on "
        let ready = await simulator.waitForLine(timeout: .seconds(60)) { $0.hasPrefix(prefix) }
        let url = try #require(ready?.dropFirst(prefix.count)).description
        let outcome = try await ProcessRunner.imdswatch(["get", "--all", "--endpoint", url])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(
            try JSONDocument.parse(outcome.stdout)["meta-data"]?["tags"]?["instance"]?["Name"] == "imdswatch-simulator")
        #expect(await simulator.stop() == 0)

        let bad = try await ProcessRunner.imdswatch(["simulate", "--connection-limit", "0"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--connection-limit"), "\(bad.stderr)")
    }

    @Test(arguments: [(ResponseStyle.real, TagsListing.bare), (.real, .slash), (.aemm, .bare)])
    func tagsAreAnObjectWhicheverWayTheirListingIsWritten(style: ResponseStyle, listing: TagsListing) async throws {
        var state = SimulatorState(tags: [InstanceTag("Name", "web-1"), InstanceTag("Team", "blue")], style: style)
        state.tagsListing = listing
        let tags = JSONValue.object([("Name", "web-1"), ("Team", "blue")])
        try await withSimulator(state: state) { simulator in
            let all = try await ProcessRunner.imdswatch(["get", "--all", "--endpoint", simulator.baseURL])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(try JSONDocument.parse(all.stdout)["meta-data"]?["tags"]?["instance"] == tags, "\(all.stdout)")

            let match = try await ProcessRunner.imdswatch([
                "get", "--match", "^meta-data/tags/", "--endpoint", simulator.baseURL,
            ])
            #expect(match.status == 0, "\(match.stderr)")
            #expect(
                try JSONDocument.parse(match.stdout)
                    == .object([("meta-data", .object([("tags", .object([("instance", tags)]))]))]))

            let list = try await ProcessRunner.imdswatch(["get", "--list", "--endpoint", simulator.baseURL])
            #expect(list.status == 0, "\(list.stderr)")
            let paths = list.stdout.split(separator: "\n").map(String.init)
            #expect(
                paths.filter { $0.hasPrefix("meta-data/tags/") } == [
                    "meta-data/tags/instance/Name", "meta-data/tags/instance/Team",
                ])
            #expect(
                simulator.statistics.requestsByPath["meta-data/tags/instance"] == 3,
                "the key list is read where the service documents it")
        }
    }

    @Test func aRootListingThatAnswers404IsAnErrorNotAnEmptyTree() async throws {
        try await withSimulator { simulator in
            // Every path but the token answers 404 (the first matching fault applies).
            simulator.inject(.delay(0, on: "api/token"))
            simulator.inject(.status(404, on: ""))
            for mode in Self.modes {
                let outcome = try await ProcessRunner.imdswatch(["get"] + mode + ["--endpoint", simulator.baseURL])
                #expect(outcome.status == 2, "\(mode): \(outcome.stdout)")
                #expect(outcome.stdout.isEmpty, "\(mode): nothing printed, not {}")
                #expect(outcome.stderr.split(separator: "\n").count == 1, "\(mode): one line: \(outcome.stderr)")
                #expect(
                    outcome.stderr.contains("404 for /latest/") && outcome.stderr.contains(simulator.baseURL),
                    "\(outcome.stderr)")
            }
        }
    }

    @Test func aTreeWithNothingToReadIsAnError() async throws {
        var state = SimulatorState()
        state.userData = nil
        try await withSimulator(state: state) { simulator in
            // `/latest/` lists dynamic and meta-data, and both answer 404.
            simulator.inject(.status(404, on: "dynamic"))
            simulator.inject(.status(404, on: "meta-data"))
            let outcome = try await ProcessRunner.imdswatch(["get", "--all", "--endpoint", simulator.baseURL])
            #expect(outcome.status == 2)
            #expect(outcome.stdout.isEmpty)
            #expect(outcome.stderr.contains("empty metadata tree"), "\(outcome.stderr)")
        }
    }
}
