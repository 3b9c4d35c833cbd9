import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// docs/hooks.md's stop: a SIGTERM (`systemctl stop`) while a hook runs lets it finish within the grace, and the
/// daemon exits only after it ended. The hook dispatcher is one of the services of the daemon's one `ServiceGroup`.
@Suite struct DaemonStopTests {
    @Test func aStopWhileAHookRunsLetsItFinishThenExits() async throws {
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator)
            let marks = daemon.directory + "/marks"
            try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
            // Holds until the test releases it (at most 60 s); notes any SIGTERM it gets.
            try daemon.installHook(
                named: "spot-interruption.d/10-hold",
                script: """
                    #!/bin/sh
                    trap 'touch "\(marks)/terminated"' TERM
                    touch "\(marks)/started"
                    i=0
                    until [ -e "\(marks)/release" ] || [ $i -gt 3000 ]; do sleep 0.02; i=$((i + 1)); done
                    echo "released"
                    """)
            let process = try await daemon.start()
            simulator.update { $0.spot = SpotNotice(action: .terminate, time: Date().addingTimeInterval(120)) }
            #expect(
                await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: marks + "/started") })

            process.signal(SIGTERM)
            // Not a time bound: the daemon cannot exit before the hook is released.
            try await Task.sleep(for: .seconds(1))
            #expect(process.isRunning, "the daemon exited while its hook still ran: \(process.lines.suffix(10))")
            FileManager.default.createFile(atPath: marks + "/release", contents: nil)
            let status = await process.wait(timeout: .seconds(60))

            #expect(status == 0, "\(process.lines.suffix(20))")
            let lines = process.lines
            let finished = lines.firstIndex { $0.contains("hook 10-hold finished") }
            let stopped = lines.firstIndex { $0.contains("imdswatch stopped") }
            #expect(finished != nil && stopped != nil && finished! < stopped!, "\(lines.suffix(20))")
            #expect(!FileManager.default.fileExists(atPath: marks + "/terminated"), "the hook got SIGTERM")
            #expect(!lines.contains { $0.contains("hooks still running after") || $0.contains("hooks not run") })
            // Its sequence ended: nothing is left to resume at the next start.
            #expect(
                ((try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/hooks-pending")) ?? [])
                    .isEmpty)
        }
    }
}
