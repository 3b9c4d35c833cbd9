import Foundation
import IMDSWatchTestKit
import Testing

extension BootedContainerTests {
    /// `systemctl reload imdswatch` (the unit's `ExecReload=`, SIGHUP): the changed configuration takes effect in the
    /// same process; an invalid file changes nothing and is logged once.
    @Suite(.serialized) struct Reload {
        private static let config = "/etc/imdswatch/imdswatch.toml"

        @Test func reloadAppliesAValidChangeWithoutARestart() async throws {
            let box = try await ContainerTest.fixture()
            let pid = try await box.mainPID()
            let restarts = try await box.property("NRestarts")
            #expect(try await box.property("StatusText").hasPrefix("5 sources OK"))
            let original = try await box.require("cat \(Self.config)")
            let cursor = try await box.journalCursor()
            #expect(
                try await box.journal(["-u", "imdswatch", "-p", "debug..debug"]).isEmpty,
                "no debug entries at the shipped level")

            try await box.write(
                original + "\n[log]\nlevel = \"debug\"\n\n[sources.rebalance]\nenabled = false\n", to: Self.config)
            let reload = try await box.run("systemctl reload imdswatch.service", timeout: .seconds(120))
            #expect(reload.status == 0, "\(reload.stderr)")
            #expect(try await box.mainPID() == pid, "reloaded in the same process")
            #expect(try await box.property("NRestarts") == restarts)
            let status = await waitForValue(timeout: .seconds(60)) { () -> String? in
                guard let text = try? await box.property("StatusText"), text.hasPrefix("4 sources OK") else {
                    return nil
                }
                return text
            }
            #expect(status != nil, "the rebalance source is off after the reload")
            #expect(
                await box.waitForJournal(["-u", "imdswatch", "-p", "debug..debug"], after: cursor) != nil,
                "the debug level took effect")
            try await box.write(original, to: Self.config)
            try await box.require("systemctl reload imdswatch.service", timeout: .seconds(120))
        }

        @Test func reloadOfAnInvalidFileChangesNothingAndLogsOneLine() async throws {
            let box = try await ContainerTest.fixture()
            let pid = try await box.mainPID()
            let original = try await box.require("cat \(Self.config)")
            let lineNumber = original.split(separator: "\n", omittingEmptySubsequences: false).count + 2
            let cursor = try await box.journalCursor()
            try await box.write(original + "\n[log]\nlevel = \"loud\"\n", to: Self.config)
            _ = try await box.run("systemctl reload imdswatch.service", timeout: .seconds(120))

            let complaints = await box.waitForJournal(["-u", "imdswatch", "-p", "warning"], after: cursor) {
                $0["MESSAGE"]?.contains("level") == true
            }
            let lines = (complaints ?? []).compactMap { $0["MESSAGE"] }.filter { $0.contains("level") }
            #expect(lines.count == 1, "one line: \(lines)")
            #expect(
                lines.first?.contains("imdswatch.toml:\(lineNumber): log.level") == true,
                "names the key and line: \(lines)")
            #expect(try await box.mainPID() == pid, "still the same process")
            #expect(try await box.property("ActiveState") == "active")
            #expect(
                try await box.property("StatusText").hasPrefix("5 sources OK"), "the running configuration is unchanged"
            )
            #expect(try await box.journal(["-u", "imdswatch", "-p", "debug..debug"], after: cursor).isEmpty)
            try await box.write(original, to: Self.config)
        }
    }
}
