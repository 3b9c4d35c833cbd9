import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Hostile hooks under the real daemon (`--hook-timeout 1`): one hangs, one dies by a signal, one leaves a child
/// behind, one prints without end. Polling and later events' hooks go on; nothing leaks; the leftover child dies.
extension FaultInjection {
@Suite struct HookTests {
    typealias K = FaultKit

    @Test func hangingCrashingOrphaningAndChattyHooks() async throws {
        try await K.withDaemon(arguments: ["--hook-timeout", "1"]) { daemon in
            let simulator = daemon.simulator
            let baseline = try K.sample(daemon)
            let logStart = K.lineCount(daemon)
            let orphanPID = daemon.directory + "/orphan.pid"

            // The directory is read afresh for every event: the hostile hooks take part from the next event on.
            try daemon.installHook(named: "asg-lifecycle-state.d/10-hang", script: "#!/bin/sh\nsleep 1000\n")
            try daemon.installHook(named: "rebalance-recommendation.d/10-crash", script: "#!/bin/sh\nkill -SEGV $$\nsleep 5\n")
            try daemon.installHook(named: "maintenance-scheduled.d/10-orphan", script: """
            #!/bin/sh
            sleep 1000 </dev/null >/dev/null 2>&1 &
            echo $! > "\(orphanPID)"
            exit 0
            """)
            try daemon.installHook(named: "tags-changed.d/10-chatty", script: """
            #!/bin/sh
            exec yes "$(head -c 3000 /dev/zero | tr '\\0' y)"
            """)

            simulator.update {
                $0.asgState = "Standby"
                $0.rebalance = K.t0
                $0.scheduledEvents = [MaintenanceEvent(eventId: "instance-event-0hooks", notBefore: K.t0,
                                                       notAfter: K.t0.addingTimeInterval(3600))]
                $0.tags = [InstanceTag("Name", "chatty")]
            }
            await daemon.waitForRecords(of: .asgLifecycleState, count: 2)
            await daemon.waitForRecords(of: .rebalanceRecommendation)
            await daemon.waitForRecords(of: .maintenanceScheduled)
            await daemon.waitForRecords(of: .tagsChanged)

            // While they misbehave: polling goes on, and a spot notice's hooks run. (That spot hooks do not wait behind
            // hanging ones is checked by order, not by time, in HookDispatcherTests and DaemonWebhookTests.)
            let from = K.requests(daemon)
            #expect(await K.waitForPolls(daemon, 10, after: from, timeout: .seconds(60)), "polling goes on during the hooks")
            simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
            #expect(await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(60)).count == 1)

            // Results: the timeouts and the signal are reported; the orphan dies with the hook's process group.
            #expect(await K.waitForLine(daemon, containing: "hook 10-hang failed", from: logStart) != nil)
            #expect(await K.waitForLine(daemon, containing: "hook 10-chatty failed", from: logStart) != nil)
            #expect(await K.waitForLine(daemon, containing: "hook 10-crash failed", from: logStart) != nil)
            #expect(K.lines(daemon, containing: "hook 10-orphan finished", from: logStart).count == 1)
            let pidText = try String(contentsOfFile: orphanPID, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let orphan = try #require(Int32(pidText))
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(50)) { !ProcessProbe.isAlive(orphan) },
                    "the hook's leftover child is ended once the hook's timeout is up")
            if ProcessProbe.isAlive(orphan) { kill(orphan, SIGKILL) }
            let notLogged = K.lines(daemon, containing: "more bytes of stdout not logged", from: logStart)
            #expect(notLogged.count <= 1, "the endless output is capped with one line: \(notLogged)")

            // A later event, with the hostile hooks gone: its hook runs; the daemon is as lean as before.
            for name in ["asg-lifecycle-state.d/10-hang", "rebalance-recommendation.d/10-crash",
                         "maintenance-scheduled.d/10-orphan", "tags-changed.d/10-chatty"] {
                try FileManager.default.removeItem(atPath: daemon.hooksDir + "/" + name)
            }
            simulator.update { $0.asgState = "InService" }
            #expect(await daemon.waitForRecords(of: .asgLifecycleState, count: 3).count == 3, "later events still run hooks")
            try await Task.sleep(for: .milliseconds(500))
            #expect(K.counts(daemon) == ["asg-lifecycle-state": 3, "rebalance-recommendation": 1, "maintenance-scheduled": 1,
                                         "tags-changed": 1, "spot-interruption": 1])
            K.expectFlat(baseline, try K.sample(daemon), rssKiB: 8192, "after hostile hooks")
            #expect(daemon.process?.isRunning == true)
        }
    }
}
}
