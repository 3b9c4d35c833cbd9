import Foundation
import IMDSWatchTestKit
import Testing

@Suite("systemd unit files", .timeLimit(.minutes(2)))
struct UnitFileTests {
    /// A temporary folder holding a copy of the unit whose ExecStart points at an existing executable (verify
    /// checks it), optionally with the strict drop-in next to it as `imdswatch.service.d/strict.conf`.
    func stagedUnit(withStrictDropIn: Bool) throws -> URL {
        let directory = try RepositoryPaths.temporaryDirectory("imdswatch-unit")
        let binary = directory.appendingPathComponent("imdswatch")
        try "#!/bin/sh\nexit 0\n".write(to: binary, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let unit = try String(contentsOf: RepositoryPaths.unit, encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/local/bin/imdswatch run\n"))
        let staged = unit.replacingOccurrences(
            of: "ExecStart=/usr/local/bin/imdswatch run", with: "ExecStart=\(binary.path) run"
        )
        let unitFile = directory.appendingPathComponent("imdswatch.service")
        try staged.write(to: unitFile, atomically: true, encoding: .utf8)
        if withStrictDropIn {
            let dropIns = directory.appendingPathComponent("imdswatch.service.d")
            try FileManager.default.createDirectory(at: dropIns, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: RepositoryPaths.strictDropIn, to: dropIns.appendingPathComponent("strict.conf"))
        }
        return unitFile
    }

    func analyze(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let result = try JournalFixtures.run("/usr/bin/systemd-analyze", arguments)
        return (
            result.status, String(decoding: result.output, as: UTF8.self),
            String(decoding: result.errors, as: UTF8.self)
        )
    }

    /// The number on the "Overall exposure level for imdswatch.service: 3.4 OK" line.
    func exposure(_ output: String) throws -> Double {
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let afterColon = try #require(line.split(separator: ":").last)
        let number = try #require(afterColon.split(separator: " ").first)
        return try #require(Double(number))
    }

    @Test(arguments: [false, true])
    func verifyPassesWithoutWarnings(withStrictDropIn: Bool) throws {
        let unit = try stagedUnit(withStrictDropIn: withStrictDropIn)
        let result = try analyze(["verify", unit.path])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.errors.isEmpty, "\(result.errors)")
    }

    @Test func unitExposureIsAtMostFourPointFive() throws {
        let unit = try stagedUnit(withStrictDropIn: false)
        let result = try analyze(["security", "--offline=yes", "--no-pager", unit.path])
        let score = try exposure(result.output)
        #expect(score <= 4.5, "\(result.output)")
    }

    @Test func strictDropInExposureIsAtMostTwo() throws {
        let unit = try stagedUnit(withStrictDropIn: true)
        let result = try analyze(["security", "--offline=yes", "--no-pager", unit.path])
        let score = try exposure(result.output)
        #expect(score <= 2.0, "\(result.output)")
        // The drop-in really was read: the plain unit scores higher.
        let plain = try exposure(
            try analyze(["security", "--offline=yes", "--no-pager", try stagedUnit(withStrictDropIn: false).path])
                .output)
        #expect(score < plain)
    }

    @Test func unitHasTheContractDirectives() throws {
        let unit = try String(contentsOf: RepositoryPaths.unit, encoding: .utf8)
        for directive in [
            "Type=notify", "NotifyAccess=main", "Restart=always", "WatchdogSec=30", "StateDirectory=imdswatch",
            "ConfigurationDirectory=imdswatch", "TimeoutStopSec=120", "KillMode=mixed",
            "ExecReload=/bin/sh -c 'kill -HUP ${MAINPID}'",
        ] {
            #expect(unit.contains("\n\(directive)\n"), "missing \(directive)")
        }
        // Every directive carries a comment: the line above each setting is a comment or another setting of a group.
        let lines = unit.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where line.contains("=") && !line.hasPrefix("#") && index > 0 {
            var above = index - 1
            while above > 0 && lines[above].contains("=") && !lines[above].hasPrefix("#") { above -= 1 }
            #expect(lines[above].hasPrefix("#"), "no comment above \(line)")
        }
    }
}
