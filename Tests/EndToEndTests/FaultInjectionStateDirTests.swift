import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The state directory failing under the running daemon. The tests run as root, which ignores file modes, so the
/// state dir is a tmpfs of its own: remounted read-only, or filled up. Every mount is undone in both paths.
extension FaultInjection {
    @Suite struct StateDirTests {
        typealias K = FaultKit
        static let saveFailure = "may fire again after a restart"

        private static func mount(_ daemon: DaemonHarness, size: String) throws {
            try K.shell("mount -t tmpfs -o size=\(size),mode=0700 imdswatch-faults '\(daemon.stateDir)'")
        }

        private static func unmount(_ daemon: DaemonHarness) {
            _ = try? K.shell("mountpoint -q '\(daemon.stateDir)' && umount -l '\(daemon.stateDir)'", check: false)
        }

        private static func available() -> Bool {
            getuid() == 0
                && (FileManager.default.isExecutableFile(atPath: "/usr/bin/mount")
                    || FileManager.default.isExecutableFile(atPath: "/bin/mount"))
        }

        /// The shared scenario: break the dir, see events still fire and one error line, repair it, see it saved again.
        /// `journalMayFit`: on a full file system an append to the event journal can still fit in its last page (the
        /// state is then saved all along): at most one error line, and the state must be saved.
        private func breakAndRepair(
            _ daemon: DaemonHarness, journalMayFit: Bool = false, break breakIt: () throws -> Void,
            repair: () throws -> Void
        ) async throws {
            let simulator = daemon.simulator
            let baseline = try K.sample(daemon)
            let logStart = K.lineCount(daemon)
            try breakIt()

            simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
            #expect(
                await daemon.waitForRecords(of: .spotInterruption).count == 1,
                "events fire without a writable state dir")
            let from = K.requests(daemon)
            #expect(await K.waitForPolls(daemon, 25, after: from), "polling goes on")
            simulator.update { $0.rebalance = K.t0 }
            #expect(await daemon.waitForRecords(of: .rebalanceRecommendation).count == 1, "a later event fires too")
            #expect(await K.waitForPolls(daemon, 10, after: K.requests(daemon)))
            let failures = K.lines(daemon, containing: Self.saveFailure, from: logStart)
            if !(journalMayFit && failures.isEmpty) {
                #expect(failures.count == 1, "the persistence problem is logged once, not per poll: \(failures)")
                #expect(failures.first?.contains("ERROR") == true, "\(failures)")
            }

            try repair()
            if !failures.isEmpty {
                #expect(
                    await K.waitForLine(daemon, containing: "state saved again", from: logStart) != nil,
                    "recovers by itself")
            }
            let saved = SavedState.read(stateDirectory: daemon.stateDir)?.serialized() ?? "none"
            #expect(saved.contains("2026-11-29T12:00:00Z"), "what happened meanwhile is persisted: \(saved)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1, "rebalance-recommendation": 1])
            #expect(K.lines(daemon, containing: Self.saveFailure, from: logStart).count == failures.count)
            K.expectFlat(baseline, try K.sample(daemon), "state dir broken and repaired")

            // Persisted for real: a restart fires nothing again.
            await daemon.process?.stop()
            try await daemon.start()
            try await Task.sleep(for: .milliseconds(500))
            #expect(
                K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1, "rebalance-recommendation": 1],
                "nothing fires twice after a restart")
        }

        @Test func stateDirReadOnly() async throws {
            // Never skipped: without root and mount(8) this fails loudly (CI runs as root).
            try #require(Self.available(), "needs root and mount(8) to make a state dir that is really read-only")
            try await K.withDaemon(prepare: { try Self.mount($0, size: "1m") }, cleanup: Self.unmount) { daemon in
                try await breakAndRepair(
                    daemon,
                    break: {
                        try K.shell("mount -o remount,ro '\(daemon.stateDir)'")
                        #expect(
                            !FileManager.default.createFile(atPath: daemon.stateDir + "/probe", contents: Data()),
                            "the state dir really is read-only, even for root")
                    },
                    repair: {
                        try K.shell("mount -o remount,rw '\(daemon.stateDir)'")
                    })
            }
        }

        @Test func stateDirFull() async throws {
            try #require(Self.available(), "needs root and mount(8) to make a state dir that is really full")
            try await K.withDaemon(prepare: { try Self.mount($0, size: "64k") }, cleanup: Self.unmount) { daemon in
                let filler = daemon.stateDir + "/filler"
                try await breakAndRepair(
                    daemon, journalMayFit: true,
                    break: {
                        let dd = try K.shell("dd if=/dev/zero of='\(filler)' bs=4096 2>&1", check: false)
                        #expect(dd.stdout.contains("No space left"), "the state dir is full: \(dd.stdout)")
                    },
                    repair: {
                        try FileManager.default.removeItem(atPath: filler)
                    })
            }
        }
    }
}
