import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// IMDS misbehaving under the real daemon (interval 0.05 s): server errors, hangs, resets, garbage, huge bodies,
/// short-lived tokens. Each test checks the daemon keeps polling, fires nothing false, loses nothing, stays flat in
/// memory and fds, and logs the fault once (plus the 10th-failure reminder), not once per poll.
extension FaultInjection {
    @Suite struct IMDSTests {
        typealias K = FaultKit

        /// At most this many "cannot read PATH" lines per source over 20..99 consecutive failures: the 1st and the 10th.
        static let maxLinesPerSource = 2
        /// What the first round fires (the ASG state found at start).
        static let firstRun = ["asg-lifecycle-state": 1]

        private func expectOneLinePerSource(
            _ daemon: DaemonHarness, from index: Int, paths: [String],
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            for path in paths {
                let found = K.lines(daemon, containing: "cannot read \(path)", from: index)
                #expect(!found.isEmpty, "the fault on \(path) is logged", sourceLocation: sourceLocation)
                #expect(found.count <= Self.maxLinesPerSource, "\(path): \(found)", sourceLocation: sourceLocation)
            }
        }

        @Test func serverErrors500And503OnEveryPath() async throws {
            try await K.withDaemon { daemon in
                let simulator = daemon.simulator
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)

                // 500 on every path (token PUTs too; the daemon's token is still valid, so it keeps reading with it).
                simulator.inject(Fault.status(500, on: ""))
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
                #expect(
                    await K.waitForPolls(daemon, 20, after: K.requests(daemon)), "spot is polled while IMDS answers 500"
                )

                // 503 on every metadata path (the token works): GETs go on.
                simulator.clearFaults()
                simulator.inject(Fault.status(503, on: "meta-data/"))
                let from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 10, after: from), "spot is polled while IMDS answers 503")
                let during = try K.sample(daemon)
                #expect(await K.waitForPolls(daemon, 20, after: from + 10), "spot is polled while IMDS answers 503")
                let after = try K.sample(daemon)
                #expect(K.counts(daemon) == Self.firstRun, "an error is never read as a change")
                expectOneLinePerSource(
                    daemon, from: logStart,
                    paths: [
                        K.spotPath, "meta-data/events/recommendations/rebalance",
                        "meta-data/events/maintenance/scheduled",
                    ])
                K.expectFlat(during, after, "under 503")

                simulator.clearFaults()
                let spot = await daemon.waitForRecords(of: .spotInterruption)
                #expect(
                    spot.first?["data"]?["time"] == "2026-11-29T12:00:00Z",
                    "the notice that appeared during the outage fires")
                #expect(await K.waitForLine(daemon, containing: "readable again", from: logStart) != nil)
                try await Task.sleep(for: .milliseconds(500))
                #expect(K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1])
                K.expectFlat(baseline, try K.sample(daemon), "after the outage")
            }
        }

        @Test func hangingConnectionsTimeOut() async throws {
            try await K.withDaemon(imdsTimeout: "0.3") { daemon in
                let simulator = daemon.simulator
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)
                simulator.inject(Fault.hang(on: "meta-data/"))
                simulator.update { $0.rebalance = K.t0 }
                let from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 3, after: from), "polls go on, one per timeout")
                let during = try K.sample(daemon)
                #expect(
                    await K.waitForPolls(daemon, 17, after: from + 3, timeout: .seconds(12)), "20 polls under the hang")
                let after = try K.sample(daemon)
                #expect(K.counts(daemon) == Self.firstRun, "an error is never read as a change")
                expectOneLinePerSource(
                    daemon, from: logStart, paths: [K.spotPath, "meta-data/events/recommendations/rebalance"])
                K.expectFlat(during, after, inFlight: 6, "under hanging connections")

                simulator.clearFaults()
                await daemon.waitForRecords(of: .rebalanceRecommendation)
                try await Task.sleep(for: .milliseconds(500))
                #expect(K.counts(daemon) == ["asg-lifecycle-state": 1, "rebalance-recommendation": 1])
                K.expectFlat(baseline, try K.sample(daemon), "after the hangs")
            }
        }

        @Test func connectionResets() async throws {
            try await K.withDaemon { daemon in
                let simulator = daemon.simulator
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)
                simulator.inject(Fault.reset(on: "meta-data/"))
                let event = MaintenanceEvent(
                    eventId: "instance-event-0fault", notBefore: K.t0, notAfter: K.t0.addingTimeInterval(3600))
                simulator.update {
                    $0.scheduledEvents = [event]
                    $0.spot = SpotNotice(action: .stop, time: K.t0)
                }
                let from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 10, after: from))
                let during = try K.sample(daemon)
                #expect(await K.waitForPolls(daemon, 40, after: from + 10), "polls go on under resets")
                let after = try K.sample(daemon)
                #expect(K.counts(daemon) == Self.firstRun, "an error is never read as a change")
                expectOneLinePerSource(
                    daemon, from: logStart, paths: [K.spotPath, "meta-data/events/maintenance/scheduled"])
                K.expectFlat(during, after, inFlight: 6, "under resets")

                simulator.clearFaults()
                await daemon.waitForRecords(of: .spotInterruption)
                await daemon.waitForRecords(of: .maintenanceScheduled)
                try await Task.sleep(for: .milliseconds(500))
                #expect(
                    K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1, "maintenance-scheduled": 1])
                K.expectFlat(baseline, try K.sample(daemon), "after the resets")
            }
        }

        @Test func malformedAndOversizedBodiesOnLifecyclePaths() async throws {
            var state = K.inService
            state.tags = [InstanceTag("Name", "web-1")]
            let paths = ["meta-data/spot/", "meta-data/events/", "meta-data/autoscaling/", "meta-data/tags/"]
            try await K.withDaemon(state: state) { daemon in
                let simulator = daemon.simulator
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)

                for path in paths { simulator.inject(Fault.malformed(on: path)) }
                simulator.update {
                    $0.spot = SpotNotice(action: .hibernate, time: K.t0)
                    $0.rebalance = K.t0
                    $0.asgState = "Standby"
                    $0.tags = [InstanceTag("Name", "web-2")]
                }
                var from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 25, after: from), "polls go on under garbage")
                #expect(K.counts(daemon) == Self.firstRun, "garbage is never a change")

                simulator.clearFaults()
                for path in paths { simulator.inject(Fault.oversized(2 << 20, on: path)) }
                from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 5, after: from))
                let during = try K.sample(daemon)
                #expect(await K.waitForPolls(daemon, 25, after: from + 5), "polls go on under 2 MiB bodies")
                let after = try K.sample(daemon)
                #expect(K.counts(daemon) == Self.firstRun, "an oversized body is never a change")
                expectOneLinePerSource(
                    daemon, from: logStart,
                    paths: [
                        K.spotPath, "meta-data/events/recommendations/rebalance",
                        "meta-data/autoscaling/target-lifecycle-state",
                        "meta-data/tags/instance",
                    ])
                K.expectFlat(during, after, inFlight: 6, rssKiB: 8192, "under oversized bodies")

                simulator.clearFaults()
                await daemon.waitForRecords(of: .spotInterruption)
                await daemon.waitForRecords(of: .rebalanceRecommendation)
                await daemon.waitForRecords(of: .asgLifecycleState, count: 2)
                await daemon.waitForRecords(of: .tagsChanged)
                try await Task.sleep(for: .milliseconds(500))
                #expect(
                    K.counts(daemon) == [
                        "asg-lifecycle-state": 2, "spot-interruption": 1,
                        "rebalance-recommendation": 1, "tags-changed": 1,
                    ])
                #expect(
                    daemon.records(of: .tagsChanged).first?["data"]?["changed"]?["Name"] == [
                        "from": "web-1", "to": "web-2",
                    ])
                K.expectFlat(baseline, try K.sample(daemon), rssKiB: 8192, "after garbage and huge bodies")
            }
        }

        @Test func tokensExpiringEveryTwoSeconds() async throws {
            var state = K.inService
            state.maxTokenTTL = 2
            try await K.withDaemon(state: state) { daemon in
                let simulator = daemon.simulator
                let logStart = K.lineCount(daemon)
                simulator.resetStatistics()
                let started = ContinuousClock.now
                let baseline = try K.sample(daemon)
                try await Task.sleep(for: .seconds(3))
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
                await daemon.waitForRecords(of: .spotInterruption)
                try await Task.sleep(for: .seconds(3))
                let elapsed = ContinuousClock.now - started
                let stats = simulator.statistics
                let expected = elapsed / .milliseconds(1500)
                #expect(
                    stats.tokenRequests >= 2 && Double(stats.tokenRequests) <= expected + 3,
                    "a token every ~1.5 s: \(stats.tokenRequests) PUTs in \(elapsed)")
                #expect((stats.responsesByStatus["401"] ?? 0) <= 2, "no 401 storm: \(stats.responsesByStatus)")
                #expect(stats.requests(on: K.spotPath) >= 60, "polling went on: \(stats.requests(on: K.spotPath))")
                let problems = (daemon.process?.lines ?? []).dropFirst(logStart).filter {
                    ($0.contains("WARNING") || $0.contains("ERROR") || $0.contains("cannot read"))
                        && !$0.contains("detected ")
                }
                #expect(problems.isEmpty, "token expiry is routine, not a problem: \(problems)")
                #expect(K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1])
                K.expectFlat(baseline, try K.sample(daemon), "with 2 s tokens")
            }
        }
    }
}
