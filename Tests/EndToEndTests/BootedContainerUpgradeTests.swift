import Foundation
import IMDSWatchTestKit
import Testing

extension BootedContainerTests {
    /// The maintainer scripts under a running systemd: an upgrade while the daemon works, then a purge.
    @Suite(.serialized) struct Upgrade {
        @Test func upgradeWhileRunningDeliversWhatWasPendingOnceAndKeepsTheEditedConffile() async throws {
            let box = try await ContainerTest.fixture()
            try await Self.ensureInstalled(box)
            let next = try await Self.reversioned(box, suffix: "+upgrade1")
            try await box.require(
                "printf '\\n# edited by the booted-container test\\nhook_timeout = 60\\n' >> /etc/imdswatch/imdswatch.toml"
            )
            try await box.installHook(
                "spot-interruption.d/10-slow", script: ContainerTest.recordingHook("slow", sleeping: 4))
            try await box.installHook(
                "rebalance-recommendation.d/10-count", script: ContainerTest.recordingHook("rebalance"))
            let old = try await box.mainPID()

            // A spot hook runs, and a rebalance notice is served, when the new package goes in.
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/slow.log") { $0.hasPrefix("start ") } != nil)
            try await box.simulator("PUT", "state", body: ContainerTest.rebalanceNotice())
            try await box.installPackage(next.path)

            #expect(try await box.require("dpkg-query -W -f '${Version}' imdswatch") == next.version)
            let new = await box.waitForMainPID(other: old)
            try #require(new != nil, "the new daemon took over (postinst try-restart)")
            #expect(await box.waitForLines(in: "/var/lib/imdswatch-test/rebalance.log") { $0.hasPrefix("end ") } != nil)
            try await ContainerTest.settle(box)
            let slow = try await ContainerTest.log("slow", in: box)
            #expect(slow.count == 2, "the running hook finished, once, and did not run again: \(slow)")
            let rebalance = try await ContainerTest.log("rebalance", in: box)
            #expect(rebalance.count == 2, "the pending event was delivered once: \(rebalance)")

            let config = try await box.require("cat /etc/imdswatch/imdswatch.toml")
            #expect(
                config.contains("# edited by the booted-container test\nhook_timeout = 60\n"),
                "the edited conffile is kept")
            #expect(
                try await box.require("ls /etc/imdswatch") == "hooks.d\nimdswatch.toml\n",
                "no .dpkg-dist or .dpkg-new left")
        }

        @Test func purgeLeavesNothing() async throws {
            let box = try await ContainerTest.fixture()
            try await Self.ensureInstalled(box)
            try await box.require("DEBIAN_FRONTEND=noninteractive dpkg --purge imdswatch 2>&1", timeout: .seconds(300))

            #expect(try await box.run("dpkg-query -W -f '${Status}' imdswatch").stdout != "install ok installed")
            let left = try await box.run(
                """
                ls -d /etc/imdswatch /var/lib/imdswatch /var/lib/private/imdswatch /usr/bin/imdswatch \
                  /usr/lib/systemd/system/imdswatch.service /usr/share/imdswatch /usr/share/doc/imdswatch \
                  /etc/systemd/system/multi-user.target.wants/imdswatch.service /etc/systemd/system/imdswatch.service \
                  /var/lib/systemd/deb-systemd-helper-enabled/imdswatch.service \
                  /var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/imdswatch.service \
                  /var/lib/systemd/deb-systemd-helper-masked/imdswatch.service /usr/share/man/man1/imdswatch.1.gz 2>/dev/null
                """
            ).stdout
            #expect(left.isEmpty, "left after purge: \(left)")
            #expect(try await box.property("LoadState") == "not-found")
            #expect(try await box.run("pgrep -f '^/usr/bin/imdswatch run'").status == 1, "no daemon process left")
        }

        /// Installs the package under test when a previous test purged it.
        private static func ensureInstalled(_ box: IMDSWatchContainer) async throws {
            if try await box.run("dpkg-query -W -f '${Status}' imdswatch").stdout != "install ok installed" {
                try await box.installPackage()
            }
        }

        /// The package under test with a higher version, made on the host with dpkg-deb (nothing is rebuilt).
        private static func reversioned(_ box: IMDSWatchContainer, suffix: String) async throws -> (
            path: String, version: String
        ) {
            let work = box.hostDirectory.appendingPathComponent("reversion")
            try? FileManager.default.removeItem(at: work)
            let unpack = try await ProcessRunner.run("/usr/bin/dpkg-deb", ["-R", box.hostDeb, work.path])
            #expect(unpack.status == 0, "\(unpack.stderr)")
            let control = work.appendingPathComponent("DEBIAN/control")
            var lines = try String(contentsOf: control, encoding: .utf8).components(separatedBy: "\n")
            let index = try #require(lines.firstIndex { $0.hasPrefix("Version: ") })
            let version = lines[index].dropFirst("Version: ".count) + suffix
            lines[index] = "Version: \(version)"
            try lines.joined(separator: "\n").write(to: control, atomically: true, encoding: .utf8)
            let name = "imdswatch-next.deb"
            let build = try await ProcessRunner.run(
                "/usr/bin/dpkg-deb",
                [
                    "--root-owner-group", "-Zgzip", "-z1", "-b", work.path,
                    box.hostDirectory.appendingPathComponent(name).path,
                ])
            #expect(build.status == 0, "\(build.stderr)")
            try? FileManager.default.removeItem(at: work)
            return ("\(box.sharedPath)/\(name)", String(version))
        }
    }
}
