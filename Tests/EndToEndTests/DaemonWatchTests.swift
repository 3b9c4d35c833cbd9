import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// `imdswatch run` (the real binary) against the simulator over real HTTP: what fires, what does not, what survives.
@Suite(.serialized) struct DaemonWatchTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29T12:00:00Z

    private func withDaemon(
        state: SimulatorState = SimulatorState(),
        arguments: [String] = [],
        _ body: (DaemonHarness) async throws -> Void
    ) async throws {
        try await withSimulator(state: state) { simulator in
            let harness = try DaemonHarness(simulator: simulator, arguments: arguments)
            do {
                try await harness.start()
                try await body(harness)
                await harness.tearDown()
            } catch {
                await harness.tearDown()
                throw error
            }
        }
    }

    /// Lets the daemon poll a few more rounds (interval 0.1 s) so that a duplicate would have fired.
    private func settle() async throws {
        try await Task.sleep(for: .milliseconds(800))
    }

    @Test func everyEventTypeFiresExactlyOnceWithItsData() async throws {
        var state = SimulatorState()
        state.asgState = "InService"
        state.tags = [InstanceTag("Name", "web-1"), InstanceTag("Team", "blue"), InstanceTag("Env", "prod")]
        try await withDaemon(state: state) { daemon in
            let simulator = daemon.simulator
            let asg = await daemon.waitForRecords(of: .asgLifecycleState)
            #expect(asg.first?["data"]?["state"] == "InService")
            #expect(asg.first?["previous"]?["state"] == .null)

            simulator.update { $0.spot = SpotNotice(action: .stop, time: Self.t0) }
            let spot = await daemon.waitForRecords(of: .spotInterruption)
            #expect(spot.first?["data"]?["action"] == "stop")
            #expect(spot.first?["data"]?["time"] == "2026-11-29T12:00:00Z")
            #expect(spot.first?["instance"]?["instance_id"] == "i-0123456789abcdef0")
            #expect(spot.first?["schema"] == "imdswatch.event/v1")

            simulator.update { $0.rebalance = Self.t0 }
            let rebalance = await daemon.waitForRecords(of: .rebalanceRecommendation)
            #expect(rebalance.first?["data"]?["notice_time"] == "2026-11-29T12:00:00Z")

            let event = MaintenanceEvent(
                eventId: "instance-event-0d59937288b749b32", code: "system-reboot",
                description: "scheduled reboot", notBefore: Self.t0.addingTimeInterval(86_400),
                notAfter: Self.t0.addingTimeInterval(90_000))
            simulator.update { $0.scheduledEvents = [event] }
            let scheduled = await daemon.waitForRecords(of: .maintenanceScheduled)
            #expect(scheduled.first?["data"]?["event_id"] == "instance-event-0d59937288b749b32")
            #expect(scheduled.first?["data"]?["not_before"] == "2026-11-30T12:00:00Z")
            #expect(scheduled.first?["data"]?["not_before_deadline"] == .null)

            var moved = event
            moved.notBefore = Self.t0.addingTimeInterval(2 * 86_400)
            simulator.update { [moved] in $0.scheduledEvents = [moved] }
            let changed = await daemon.waitForRecords(of: .maintenanceChanged)
            #expect(changed.first?["data"]?["not_before"] == "2026-12-01T12:00:00Z")
            #expect(changed.first?["previous"]?["not_before"] == "2026-11-30T12:00:00Z")

            simulator.update { $0.scheduledEvents = [] }
            let cleared = await daemon.waitForRecords(of: .maintenanceCleared)
            #expect(cleared.first?["data"]?["event_id"] == "instance-event-0d59937288b749b32")

            simulator.update { $0.asgState = "Terminated" }
            let terminated = await daemon.waitForRecords(of: .asgLifecycleState, count: 2)
            #expect(terminated.last?["data"]?["state"] == "Terminated")
            #expect(terminated.last?["previous"]?["state"] == "InService")

            simulator.update {
                $0.tags = [InstanceTag("Name", "web-2"), InstanceTag("Env", "prod"), InstanceTag("Owner", "ops")]
            }
            let tags = await daemon.waitForRecords(of: .tagsChanged)
            #expect(tags.first?["data"]?["added"] == ["Owner": "ops"])
            #expect(tags.first?["data"]?["removed"] == ["Team": "blue"])
            #expect(tags.first?["data"]?["changed"]?["Name"] == ["from": "web-1", "to": "web-2"])

            try await settle()
            let counts = Dictionary(grouping: daemon.records(), by: { $0["type"]?.stringValue ?? "" }).mapValues(
                \.count)
            #expect(
                counts == [
                    "asg-lifecycle-state": 2, "spot-interruption": 1, "rebalance-recommendation": 1,
                    "maintenance-scheduled": 1, "maintenance-changed": 1, "maintenance-cleared": 1, "tags-changed": 1,
                ])
        }
    }

    @Test func spotNoticeWhoseTimeMovesForwardEveryPollFiresOnce() async throws {
        try await withDaemon { daemon in
            daemon.simulator.update { $0.spot = SpotNotice(action: .terminate, time: Date(), rolling: true) }
            await daemon.waitForRecords(of: .spotInterruption)
            try await Task.sleep(for: .seconds(2.2)) // the rolling time moves by whole seconds
            #expect(daemon.records(of: .spotInterruption).count == 1)
        }
    }

    @Test func errorsAndTimeoutsWhileStateChangesFireNothingSpurious() async throws {
        try await withDaemon { daemon in
            let simulator = daemon.simulator
            // 10 polls of 500s, then 10 polls of timeouts, on every path, while state changes underneath.
            simulator.inject(Fault.status(500, on: "meta-data/"))
            simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            try await Task.sleep(for: .seconds(1))
            simulator.clearFaults()
            simulator.inject(Fault.hang(on: "meta-data/"))
            simulator.update { $0.spot = nil }
            try await Task.sleep(for: .seconds(1.5))
            #expect(daemon.records().isEmpty, "an IMDS error is never read as a change")
            simulator.clearFaults()
            try await Task.sleep(for: .seconds(1))
            #expect(daemon.records().isEmpty, "the notice came and went during the outage: nothing to fire after it")
            simulator.update { $0.rebalance = Self.t0 }
            await daemon.waitForRecords(of: .rebalanceRecommendation)
            try await settle()
            #expect(daemon.records().count == 1)
            #expect(daemon.process?.isRunning == true)
        }
    }

    @Test func invalidatedTokensMidRunKeepPolling() async throws {
        try await withDaemon { daemon in
            daemon.simulator.invalidateTokens()
            try await Task.sleep(for: .milliseconds(300))
            daemon.simulator.update { $0.spot = SpotNotice(action: .hibernate, time: Self.t0) }
            let spot = await daemon.waitForRecords(of: .spotInterruption)
            #expect(spot.count == 1)
            #expect(daemon.simulator.statistics.tokenRequests >= 2)
            #expect(
                !(daemon.process?.lines.contains { $0.contains("ERROR") } ?? true), "\(daemon.process?.lines ?? [])")
        }
    }

    @Test func killNineThenRestartFiresOnlyWhatChangedWhileDown() async throws {
        try await withDaemon { daemon in
            daemon.simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            await daemon.waitForRecords(of: .spotInterruption)
            daemon.process?.signal(SIGKILL)
            await daemon.process?.wait()

            let event = MaintenanceEvent(
                eventId: "instance-event-1", notBefore: Self.t0, notAfter: Self.t0.addingTimeInterval(3600))
            daemon.simulator.update { $0.scheduledEvents = [event] }
            try await daemon.start()
            await daemon.waitForRecords(of: .maintenanceScheduled)
            try await settle()
            #expect(daemon.records(of: .spotInterruption).count == 1, "the notice fired before the kill: not again")
            #expect(daemon.records(of: .maintenanceScheduled).count == 1)
        }
    }

    @Test func corruptStateFileWarnsAndKeepsWorking() async throws {
        try await withSimulator { simulator in
            let harness = try DaemonHarness(simulator: simulator)
            try "{not json".write(toFile: harness.stateDir + "/state.json", atomically: true, encoding: .utf8)
            do {
                let process = try await harness.start()
                #expect(process.lines.contains { $0.contains("WARNING") && $0.contains("state") }, "\(process.lines)")
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                #expect(await harness.waitForRecords(of: .spotInterruption).count == 1)
                let files = try FileManager.default.contentsOfDirectory(atPath: harness.stateDir)
                #expect(
                    files.filter { $0.contains("corrupt") }.count == 1, "the unreadable file is kept aside: \(files)")
                await harness.tearDown()
            } catch {
                await harness.tearDown()
                throw error
            }
        }
    }
}
