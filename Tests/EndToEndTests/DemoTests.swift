import Events
import Foundation
import IMDSWatchTestKit
import Testing

/// `imdswatch demo`, run as a user would: the built binary, from `/`, with its own `TMPDIR`.
@Suite struct DemoTests {
    @Test func runsFromAnyDirectoryFiresEveryEventAndCleansUp() async throws {
        let sandbox = try DemoSandbox()
        defer { sandbox.remove() }
        let outcome = try await sandbox.runDemo(["--fast"])

        #expect(outcome.status == 0, "stdout:\n\(outcome.stdout)\nstderr:\n\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        for type in EventType.allCases {
            #expect(lines.contains { $0.contains("  event  \(type.rawValue)  id ") }, "no \(type.rawValue) line")
        }
        // The binary carries hooks.d/ itself (embedded at build time): run from `/`, it enables every shipped file.
        let shipped = try DemoSandbox.exampleHooks().map { String($0.0.dropLast(".example".count)) }
        let listed = try #require(DemoSandbox.value(after: "  hooks      ", in: outcome.stdout))
        #expect(listed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } == shipped)
        let hookLines = lines.filter { $0.contains("  hook   ") }
        #expect(hookLines.count >= 12)
        #expect(hookLines.allSatisfy { $0.contains(": ok, exit status 0 in ") }, "\(hookLines)")
        for hook in [
            "90-notify", "spot-interruption.d/10-stop-services", "spot-interruption.d/20-stop-containers",
            "asg-lifecycle-state.d/10-drain",
        ] {
            #expect(hookLines.contains { $0.contains("hook   \(hook): ok") }, "\(hook) did not run")
        }
        let runs = lines.filter { $0.contains("    run  ") }
        for call in [
            "systemctl stop --no-block app.service",
            "systemctl stop app.service",
            "docker stop --time ",
            "wall ",
            "logger -t imdswatch-hook",
        ] {
            #expect(runs.contains { $0.contains(call) }, "no recorded call containing \(call)")
        }
        // imdswatch itself completed the lifecycle action against the simulator's Auto Scaling endpoint.
        #expect(
            lines.contains { $0.contains("lifecycle action completed with CONTINUE") && $0.contains("group demo-asg") },
            "\(lines)")
        #expect(outcome.stdout.contains("demo passed"))
        #expect(outcome.stdout.contains("hooks failed 0"))

        // The temp dir it announced is gone, and nothing else was left in TMPDIR.
        let announced = try #require(
            DemoSandbox.value(after: "temp dir   ", in: outcome.stdout)?.split(separator: " ").first)
        #expect(announced.hasPrefix(sandbox.tmp.path + "/imdswatch-demo-"))
        #expect(!FileManager.default.fileExists(atPath: String(announced)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.tmp.path).isEmpty)
        // The real commands were never reached: sentinels of the same names after the fakes on PATH stayed silent.
        #expect(!FileManager.default.fileExists(atPath: sandbox.sentinelLog.path), "a real command was called")
    }

    @Test func interruptedDemoCleansUpAndExits130() async throws {
        let sandbox = try DemoSandbox()
        defer { sandbox.remove() }
        let demo = try BackgroundProcess(
            ProcessRunner.imdswatchPath, ["demo"], environment: ["TMPDIR": sandbox.tmp.path])
        let event = await demo.waitForLine(timeout: .seconds(15)) { $0.contains("  event  ") }
        #expect(event != nil, "\(demo.lines)")
        demo.signal(SIGINT)
        #expect(await demo.wait(timeout: .seconds(15)) == 130)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.tmp.path).isEmpty)
    }

    @Test func keepLeavesExactCopiesOfTheShippedExampleHooks() async throws {
        let sandbox = try DemoSandbox()
        defer { sandbox.remove() }
        let outcome = try await sandbox.runDemo(["--fast", "--keep"])
        #expect(outcome.status == 0, "stdout:\n\(outcome.stdout)\nstderr:\n\(outcome.stderr)")

        let kept = try #require(DemoSandbox.value(after: "kept ", in: outcome.stdout)?.split(separator: " ").first)
        let keptHooks = URL(fileURLWithPath: String(kept)).appendingPathComponent("hooks.d")
        let shipped = try DemoSandbox.exampleHooks()
        #expect(shipped.count >= 4)
        for (relative, contents) in shipped {
            let enabled = String(relative.dropLast(".example".count))
            let copy = keptHooks.appendingPathComponent(enabled)
            #expect(
                FileManager.default.contents(atPath: copy.path) == contents,
                "\(enabled) differs from hooks.d/\(relative)")
            #expect(FileManager.default.isExecutableFile(atPath: copy.path))
        }
        for fake in ["systemctl", "docker", "aws", "wall", "logger", "imdswatch"] {
            #expect(FileManager.default.isExecutableFile(atPath: "\(kept)/bin/\(fake)"))
        }
        let calls = try String(contentsOfFile: "\(kept)/calls.log", encoding: .utf8)
        #expect(calls.contains("systemctl stop --no-block app.service"))
        // The daemon's own hook dispatcher and lifecycle actions ran: their durable records are in the state dir.
        for record in ["state.json", "hooks-pending", "lifecycle-actions.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(kept)/state/\(record)"), "no state/\(record)")
        }
    }
}

/// A private `TMPDIR` for one demo run, and a directory of sentinel commands that record any call that gets past
/// the demo's fakes.
private struct DemoSandbox {
    let root: URL
    var tmp: URL { root.appendingPathComponent("tmp") }
    var sentinels: URL { root.appendingPathComponent("sentinels") }
    var sentinelLog: URL { root.appendingPathComponent("sentinel-calls.log") }

    /// The repository root.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("demo-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: sentinels, withIntermediateDirectories: true)
        for name in ["systemctl", "docker", "aws", "wall", "logger", "systemd-cat", "imdswatch"] {
            let script = "#!/bin/sh\necho \"\(name) $*\" >> '\(sentinelLog.path)'\nexit 1\n"
            let path = sentinels.appendingPathComponent(name).path
            try Data(script.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    /// Runs `imdswatch demo ARGS` from `/` with this sandbox's TMPDIR and the sentinels first on PATH.
    func runDemo(_ arguments: [String]) async throws -> ProcessRunner.Outcome {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return try await ProcessRunner.run(
            "/bin/sh", ["-c", #"cd / && exec "$0" demo "$@""#, ProcessRunner.imdswatchPath] + arguments,
            environment: ["TMPDIR": tmp.path, "PATH": sentinels.path + ":" + path],
            timeout: .seconds(40)
        )
    }

    /// The rest of the first line containing `prefix`, after it.
    static func value(after prefix: String, in text: String) -> Substring? {
        for line in text.split(separator: "\n") {
            if let range = line.range(of: prefix) { return line[range.upperBound...] }
        }
        return nil
    }

    /// Every file of `hooks.d/`: path relative to it, and bytes; in byte order of the path.
    static func exampleHooks() throws -> [(String, Data)] {
        let hooks = repository.appendingPathComponent("hooks.d")
        let enumerator = try #require(FileManager.default.enumerator(atPath: hooks.path))
        var files: [(String, Data)] = []
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = hooks.appendingPathComponent(relative).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            files.append((relative, try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        return files.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
    }
}
