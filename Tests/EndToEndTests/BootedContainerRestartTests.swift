import Foundation
import IMDSWatchTestKit
import Testing

extension BootedContainerTests {
    /// The unit's promises about a daemon that stalls, dies or is stopped: `WatchdogSec=`, `Restart=`/`RestartSec=`,
    /// `KillMode=mixed` with `TimeoutStopSec=`, each with the shipped values.
    @Suite(.serialized) struct Restart {
        @Test func stalledDaemonIsKilledByTheWatchdogAndRestartedFiringNothingTwice() async throws {
            let box = try await ContainerTest.fixture()
            // A shorter WatchdogSec= than the shipped 30 s, for time only: the daemon pings every 2.5 s while it polls
            // (spot every second); the readiness test checks that the shipped 30 s spares a healthy daemon.
            try await box.installTestDropIn("watchdog", "[Service]\nWatchdogSec=5\n")
            #expect(try await box.property("WatchdogUSec") == "5s")
            try await box.installHook("spot-interruption.d/10-count", script: ContainerTest.recordingHook("count"))
            let restarts = Int(try await box.property("NRestarts")) ?? -1
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/count.log") { $0.hasPrefix("end ") } != nil)

            let stalled = try await box.mainPID()
            let cursor = try await box.journalCursor()
            try await box.require("kill -STOP \(stalled)")
            // No WATCHDOG=1 from a stopped process: after WatchdogSec systemd kills it and restarts it.
            let next = await box.waitForMainPID(other: stalled, timeout: .seconds(120))
            try #require(next != nil, "no new main process after the stall")
            let messages = try await box.systemdMessages(after: cursor)
            #expect(messages.contains { $0.contains("Failed with result 'watchdog'") }, "\(messages)")
            #expect(Int(try await box.property("NRestarts")) == restarts + 1)

            try await ContainerTest.settle(box)
            let runs = try await ContainerTest.log("count", in: box)
            #expect(runs.count == 2, "the hook ran once, and not again after the restart: \(runs)")
        }

        @Test func killedDaemonIsRestartedAfterRestartSecFiringNothingTwiceAndLosingNothing() async throws {
            let box = try await ContainerTest.fixture()
            try await box.installHook(
                "spot-interruption.d/10-slow", script: ContainerTest.recordingHook("slow", sleeping: 4))
            try await box.installHook("spot-interruption.d/20-after", script: ContainerTest.recordingHook("after"))
            try await box.installHook(
                "rebalance-recommendation.d/10-count", script: ContainerTest.recordingHook("rebalance"))
            let restarts = Int(try await box.property("NRestarts")) ?? -1
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/slow.log") { $0.hasPrefix("start ") } != nil)

            let killed = try await box.mainPID()
            let cursor = try await box.journalCursor()
            // SIGKILL in the middle of hook 1 of 2, and a new notice arrives while the daemon is down.
            try await box.require("kill -KILL \(killed)")
            try await box.simulator("PUT", "state", body: ContainerTest.rebalanceNotice())
            let next = await box.waitForMainPID(other: killed, timeout: .seconds(60))
            try #require(next != nil, "no new main process after SIGKILL (Restart=always)")
            #expect(Int(try await box.property("NRestarts")) == restarts + 1)

            // RestartSec=2: the new process started at least 2 s after the old one died.
            let died = try await box.journal(["_PID=1", "UNIT=imdswatch.service"], after: cursor)
                .first { $0["MESSAGE"]?.contains("Failed with result 'signal'") == true }
            let diedAt = try #require(died?["__MONOTONIC_TIMESTAMP"].flatMap { Int($0) }, "systemd logged the kill")
            let startedAt = try #require(Int(try await box.property("ExecMainStartTimestampMonotonic")))
            #expect(startedAt - diedAt >= 2_000_000, "restarted \(startedAt - diedAt) µs after the kill")

            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/after.log") { $0.hasPrefix("end ") } != nil)
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/rebalance.log") { $0.hasPrefix("end ") } != nil)
            try await ContainerTest.settle(box)
            let slow = try await ContainerTest.log("slow", in: box)
            let after = try await ContainerTest.log("after", in: box)
            let rebalance = try await ContainerTest.log("rebalance", in: box)
            // The hook that was running when the daemon died is killed with it (KillMode=mixed: SIGKILL to what is
            // left in the cgroup once the main process is gone); the new daemon runs it again, to its end (at least
            // once, docs/hooks.md), then the next hook of the sequence and the event that came while it was down, once
            // each.
            let id = try #require(slow.first?.split(separator: " ").last.map(String.init), "\(slow)")
            let unitLog = await box.unitLog(after: cursor)
            #expect(slow == ["start \(id)", "start \(id)", "end \(id)"], "\(slow)\n\(unitLog)")
            #expect(after == ["start \(id)", "end \(id)"], "\(after)")
            #expect(rebalance.count == 2, "\(rebalance)")
        }

        @Test func stopWhileAHookRunsGivesTheHookItsTimeAndIsClean() async throws {
            let box = try await ContainerTest.fixture()
            try await box.installHook(
                "spot-interruption.d/10-slow", script: ContainerTest.recordingHook("slow", sleeping: 4))
            let cursor = try await box.journalCursor()
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/slow.log") { $0.hasPrefix("start ") } != nil)

            let stop = try await box.run("systemctl stop imdswatch.service", timeout: .seconds(180))
            #expect(stop.status == 0, "\(stop.stderr)")
            let slow = try await ContainerTest.log("slow", in: box)
            #expect(
                slow.count == 2 && slow.last?.hasPrefix("end ") == true,
                "the hook finished before the stop did: \(slow)")
            #expect(try await box.property("Result") == "success")
            #expect(try await box.property("ActiveState") == "inactive")
            #expect(await box.waitForHookResult("10-slow", after: cursor) == "0")

            try await box.require("systemctl start imdswatch.service", timeout: .seconds(180))
            #expect(await box.waitForMainPID() != nil)
        }
    }
}
