import Durability
import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The daemon on a host where another (non-root) user plants links, FIFOs and flips hook targets.
@Suite("Hostile host", .serialized)
struct HostileHostTests {
    /// A root-owned 0755 scratch directory under /tmp.
    private static func scratch() throws -> String {
        var template = Array("/tmp/imdswatch-hostile-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let path = String(cString: try #require(created))
        chmod(path, 0o755)
        return path
    }

    @Test func aStateDirectoryAnotherUserCanWriteIsRefusedWithOneLine() async throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/state", withIntermediateDirectories: false)
        #expect(chown(base, 65534, 65534) == 0)

        let outcome = try await ProcessRunner.imdswatch(
            [
                "run", "--endpoint", "http://127.0.0.1:9", "--state-dir", base + "/state", "--hooks-dir",
                base + "/hooks.d",
                "--log-target", "stderr",
            ],
            timeout: .seconds(20)
        )

        #expect(outcome.status != 0)
        let errorLines = outcome.stderr.split(separator: "\n").filter {
            $0.contains("refusing to use the state directory")
        }
        #expect(errorLines.count == 1, "\(outcome.stderr)")
        #expect(errorLines.first?.contains("\(base) is unsafe: the directory is owned by uid 65534") == true)
    }

    @Test func aFIFOAtTheStateFileNeitherHangsTheStartNorSIGTERM() async throws {
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator)
            defer { Task { await daemon.tearDown() } }
            #expect(mkfifo(daemon.stateDir + "/state.json", 0o600) == 0)

            let process = try await daemon.start() // throws when the first round never finishes
            #expect(process.lines.contains { $0.contains("not a regular file (FIFO)") })
            let status = await process.stop(timeout: .seconds(10))
            #expect(status == 0, "SIGTERM ends it cleanly: \(process.lines.suffix(5))")
            #expect(SafeFile.kind(of: daemon.stateDir + "/state.json") == .regular)
            await daemon.tearDown()
        }
    }

    /// 120 runs of `hooks test` while user `nobody` flips a symlinked hook's target between a root-owned script and
    /// their own: the foreign script never runs (the hook is judged and executed through one checked descriptor;
    /// links and directories another user controls are refused outright).
    @Test func aHookTargetFlippedByAnotherUserNeverRunsTheirFile() async throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let hooks = base + "/hooks.d"
        let user = base + "/user" // nobody's own directory
        let shared = base + "/shared" // root-owned, sticky and world-writable (like /tmp)
        let log = base + "/log"
        for dir in [hooks, user, shared] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        chmod(log, 0o666)
        chmod(hooks, 0o755)
        chmod(shared, 0o1777)
        #expect(chown(user, 65534, 65534) == 0)
        let safe = base + "/safe.sh"
        try "#!/bin/sh\necho safe >> \(log)\n".write(toFile: safe, atomically: false, encoding: .utf8)
        chmod(safe, 0o755)
        let evil = user + "/evil.sh"
        try "#!/bin/sh\necho EVIL >> \(log)\n".write(toFile: evil, atomically: false, encoding: .utf8)
        chmod(evil, 0o755)
        #expect(chown(evil, 65534, 65534) == 0)
        symlink(safe, hooks + "/10-control") // always runs
        symlink(user + "/current", hooks + "/20-user-dir") // nobody flips user/current
        symlink(shared + "/current", hooks + "/30-sticky") // nobody flips shared/current (their own link)

        let flip = """
            while :; do
              ln -sfn \(safe) \(user)/current; ln -sfn \(safe) \(shared)/current
              ln -sfn \(evil) \(user)/current; ln -sfn \(evil) \(shared)/current
            done
            """
        let flipper = try BackgroundProcess(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/bin/sh", "-c", flip])
        defer { flipper.signal(SIGKILL) }
        try await Task.sleep(for: .milliseconds(100))
        #expect(flipper.isRunning, "the flipper runs as nobody: \(flipper.lines)")

        var failures = 0
        for _ in 0..<120 {
            let outcome = try await ProcessRunner.imdswatch([
                "hooks", "test", "spot-interruption", "--hooks-dir", hooks,
            ])
            if outcome.status != 0 { failures += 1 }
        }
        flipper.signal(SIGKILL)
        _ = await flipper.wait()

        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(!lines.contains("EVIL"), "the foreign file ran \(lines.filter { $0 == "EVIL" }.count) times")
        #expect(lines.filter { $0 == "safe" }.count == 120, "the control hook ran every time")
        #expect(failures == 0)
        let listed = try await ProcessRunner.imdswatch(["hooks", "list", "--hooks-dir", hooks])
        #expect(listed.stdout.contains("is unsafe: the directory is owned by uid 65534"), "\(listed.stdout)")
        #expect(listed.stdout.contains("is unsafe: the symlink is owned by uid 65534"), "\(listed.stdout)")
    }

    @Test func getWithACRLFInAPathNamesThePathNotTheEndpoint() async throws {
        let outcome = try await ProcessRunner.imdswatch([
            "get", "--endpoint", "http://127.0.0.1:9", "meta-data/ami-id\r\nX-Evil: 1",
        ])
        #expect(outcome.status == 64 || outcome.status == 2 || outcome.status == 1)
        #expect(outcome.stderr.contains("invalid path \"meta-data/ami-id\\r\\nX-Evil: 1\""), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("127.0.0.1"), "the endpoint is not blamed: \(outcome.stderr)")
    }
}
