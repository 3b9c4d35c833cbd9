import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The other commands as a user runs them: status, config check, hooks list and hooks test.
@Suite struct CommandLineTests {
    private func tempDir() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("imdswatch-cli-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func statusPrintsEverySourceAndExitsZero() async throws {
        var state = SimulatorState()
        state.asgState = "InService"
        state.spot = SpotNotice(action: .terminate, time: Date(timeIntervalSince1970: 1_795_953_600))
        try await withSimulator(state: state) { simulator in
            let text = try await ProcessRunner.imdswatch(["status", "--endpoint", simulator.baseURL])
            #expect(text.status == 0, "\(text.stderr)")
            for source in ["spot", "rebalance", "maintenance", "asg", "tags"] {
                #expect(text.stdout.contains(source), "\(text.stdout)")
            }
            #expect(text.stdout.contains("InService"))

            let json = try await ProcessRunner.imdswatch(["status", "--json", "--endpoint", simulator.baseURL])
            #expect(json.status == 0)
            let parsed = try JSONDocument.parse(json.stdout)
            guard case .object = parsed else {
                Issue.record("status --json printed no object: \(json.stdout)")
                return
            }
        }
    }

    @Test func statusWithoutIMDSExitsOneWithADiagnosis() async throws {
        let outcome = try await ProcessRunner.imdswatch(["status", "--endpoint", "http://127.0.0.1:9"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("http://127.0.0.1:9"))
    }

    @Test func configCheckNamesKeyAndLine() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/imdswatch.toml"
        try "interval = 1\n\n[[webhook]]\nurl = \"https://example.invalid/hook\"\nformat = \"xml\"\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let outcome = try await ProcessRunner.imdswatch(["config", "check", file])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains(":5:"), "line 5: \(outcome.stderr)")
        #expect(outcome.stderr.contains("format"))

        let good = dir + "/good.toml"
        try "interval = 0.5\n[sources.tags]\nenabled = false\n".write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await ProcessRunner.imdswatch(["config", "check", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("OK"))
    }

    @Test func configCheckReadsWebhookSecretAndTemplateFiles() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/imdswatch.toml"
        try """
        [[webhook]]
        url = "https://example.invalid/a"
        secret_file = "\(dir)/missing-secret"

        [[webhook]]
        url = "https://example.invalid/b"
        format = "template"
        template_file = "\(dir)/missing.mustache"
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let missing = try await ProcessRunner.imdswatch(["config", "check", file])
        #expect(missing.status == 1, "\(missing.stdout)")
        let lines = missing.stderr.split(separator: "\n")
        #expect(lines.count == 2, "one line per problem: \(missing.stderr)")
        #expect(
            lines.first == "cannot read webhook secret file \(dir)/missing-secret: no such file or directory",
            "\(missing.stderr)")
        #expect(
            lines.last == "cannot read webhook template \(dir)/missing.mustache: no such file or directory",
            "\(missing.stderr)")

        try "s3cret\n".write(toFile: dir + "/missing-secret", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dir + "/missing-secret")
        try "{{type}} {{id}}".write(toFile: dir + "/missing.mustache", atomically: true, encoding: .utf8)
        let ok = try await ProcessRunner.imdswatch(["config", "check", file])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(!ok.stdout.contains("s3cret") && !ok.stderr.contains("s3cret"), "the secret is never printed")
    }

    @Test func hooksListAndTestShowOrderSkipsAndExitStatus() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hooks = dir + "/hooks.d"
        try FileManager.default.createDirectory(
            atPath: hooks + "/spot-interruption.d", withIntermediateDirectories: true)
        func write(_ name: String, _ script: String, mode: mode_t) throws {
            try script.write(toFile: hooks + "/" + name, atomically: true, encoding: .utf8)
            chmod(hooks + "/" + name, mode)
        }
        try write("10-all", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try write("spot-interruption.d/05-drain", "#!/bin/sh\ncat > /dev/null; echo drained\n", mode: 0o755)
        try write("spot-interruption.d/20-fails", "#!/bin/sh\nexit 3\n", mode: 0o755)
        try write("30-unsafe", "#!/bin/sh\nexit 0\n", mode: 0o775)
        try write("40-backup~", "#!/bin/sh\nexit 0\n", mode: 0o755)

        let list = try await ProcessRunner.imdswatch(["hooks", "list", "--hooks-dir", hooks])
        #expect(list.status == 0, "\(list.stderr)")
        let drain = try #require(list.stdout.range(of: "05-drain"))
        let all = try #require(list.stdout.range(of: "10-all"))
        #expect(drain.lowerBound < all.lowerBound, "byte order across hooks.d and TYPE.d")
        #expect(list.stdout.contains("30-unsafe"))
        #expect(list.stdout.contains("writable"), "the unsafe hook's reason: \(list.stdout)")

        let test = try await ProcessRunner.imdswatch(["hooks", "test", "spot-interruption", "--hooks-dir", hooks])
        #expect(test.status == 1, "a failing hook makes hooks test fail")
        #expect(test.stdout.contains("05-drain"))
        #expect(test.stdout.contains("3"), "the failing hook's exit status: \(test.stdout)")

        let unknown = try await ProcessRunner.imdswatch(["hooks", "test", "spot-interuption", "--hooks-dir", hooks])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("spot-interruption"), "lists the valid types")
    }
}
