import Foundation
import IMDSWatchTestKit
import Testing

/// `config check` runs the checks `run` runs at start: the same errors and the same warnings.
@Suite struct ConfigCheckParityTests {
    private static func tempDir() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-parity-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The message of a log line (`… WARNING message`), or the line.
    private static func message(_ line: Substring) -> String {
        if let range = line.range(of: "WARNING ") { return String(line[range.upperBound...]) }
        return String(line)
    }

    @Test func configCheckAndRunReportTheSameErrorsAndWarnings() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/imdswatch.toml"
        // 192.0.2.1 (TEST-NET-1) is never contacted: the missing ca_bundle stops run before its first poll.
        try """
        endpoint = "http://192.0.2.1"
        [[webhook]]
        url = "http://127.0.0.1:9/a"
        [[webhook]]
        url = "http://127.0.0.1:9/a"
        [[webhook]]
        url = "https://hooks.slack.com/services/T000/B000/sEcReTpAtH"
        ca_bundle = "\(dir)/missing-ca.pem"
        """.write(toFile: file, atomically: true, encoding: .utf8)

        let check = try await ProcessRunner.imdswatch(["config", "check", file])
        let run = try await ProcessRunner.imdswatch(
            [
                "run", "--config", file, "--state-dir", dir + "/state", "--hooks-dir", dir + "/hooks.d", "--log-target",
                "stderr",
            ],
            timeout: .seconds(20)
        )

        #expect(check.status == 1)
        #expect(run.status != 0)
        let checkLines = check.stderr.split(separator: "\n").map(Self.message)
        #expect(
            checkLines.contains(
                "IMDS endpoint http://192.0.2.1 is neither link-local nor loopback: instance metadata and its session token would travel over the network"
            ))
        #expect(checkLines.contains("webhook http://127.0.0.1:9/a is configured twice; the first one is used"))
        #expect(
            checkLines.contains(
                "webhook https://hooks.slack.com/services/T000/***/***: cannot read ca_bundle \(dir)/missing-ca.pem: no such file or directory"
            ))
        for line in checkLines {
            #expect(run.stderr.contains(line), "run says it too: \(line)\n\(run.stderr)")
        }
        #expect(!check.stderr.contains("sEcReT") && !run.stderr.contains("sEcReT"), "the secret path is never printed")
    }

    @Test func anInvalidEndpointModeFailsBothTheSameWay() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/imdswatch.toml"
        try "interval = 5\n".write(toFile: file, atomically: true, encoding: .utf8)
        let environment = ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"]

        let check = try await ProcessRunner.imdswatch(
            ["config", "check", file], environment: environment, removing: ["AWS_EC2_METADATA_SERVICE_ENDPOINT"])
        let run = try await ProcessRunner.imdswatch(
            [
                "run", "--config", file, "--state-dir", dir + "/state", "--hooks-dir", dir + "/hooks.d", "--log-target",
                "stderr",
            ],
            environment: environment, removing: ["AWS_EC2_METADATA_SERVICE_ENDPOINT"], timeout: .seconds(20)
        )

        let expected = "invalid AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE ipv5: expected IPv4 or IPv6"
        #expect(check.status == 1 && check.stderr.contains(expected), "\(check.stderr)")
        #expect(run.status != 0 && run.stderr.contains(expected), "\(run.stderr)")
    }

    @Test func aNULInAConfiguredPathIsAClearErrorNotATruncation() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/imdswatch.toml"
        try "hooks_dir = \"/etc/x\\u0000y\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let check = try await ProcessRunner.imdswatch(["config", "check", file])
        #expect(check.status == 1)
        #expect(
            check.stderr == "\(file):1:20: hooks_dir: must not contain NUL (\\u0000): it would cut the value short\n")
    }
}
