import Foundation
import IMDSWatchTestKit
import Testing

/// The package under systemd as PID 1: a Debian 12 root booted with `systemd-nspawn --boot` (private network, the
/// simulator serving IMDS at 169.254.169.254:80 inside), the `.deb` installed with `dpkg -i` (docs/systemd.md,
/// "Verified under PID 1"). One container for all the nested suites (``BootedContainerScope``), one test after
/// another, each leaving the machine as the package left it (``IMDSWatchContainer/resetBetweenTests()``); the time
/// is printed. They need root, systemd-nspawn, debootstrap and `$TEST_IMDSWATCH_DEB` (scripts/test sets it, so they
/// always run there and in .ci/run, and fail when any of these is missing); without the variable and outside CI
/// (`CI=true`) they are disabled, with the command that runs them.
@Suite(
    .serialized, BootedContainerScope(),
    .enabled(if: PackageUnderTest.containerTestsEnabled, Comment(rawValue: PackageUnderTest.howToBuild)))
struct BootedContainerTests {}

/// Shared by the booted-container tests.
enum ContainerTest {
    /// The suite's container, reset for the next test: no notice served, no hooks, empty scratch directories.
    static func fixture() async throws -> IMDSWatchContainer {
        let box = try #require(
            IMDSWatchContainer.current, "no booted container: apply BootedContainerScope to the suite")
        try await box.resetBetweenTests()
        return box
    }

    /// A spot notice two minutes from now: each call makes a new occurrence (a new event id) once the daemon has seen
    /// the previous one go (``IMDSWatchContainer/resetBetweenTests()`` waits for that).
    static let spotNotice = #"{"spot": {"action": "terminate", "time": 120}}"#

    /// A rebalance recommendation with a notice time of now: a new one per test (the daemon remembers the notice
    /// times it fired for).
    static func rebalanceNotice() -> String {
        let time = Date().formatted(.iso8601)
        return #"{"rebalance": ""# + time + #""}"#
    }

    /// A hook that appends `start ID` to `/var/lib/imdswatch-test/NAME.log`, sleeps `seconds`, then appends `end ID`.
    static func recordingHook(_ name: String, sleeping seconds: Int = 0) -> String {
        """
        #!/bin/sh
        log=/var/lib/imdswatch-test/\(name).log
        echo "start $IMDSWATCH_EVENT_ID" >> "$log"
        sleep \(seconds)
        echo "end $IMDSWATCH_EVENT_ID" >> "$log"
        """
    }

    /// The lines of a recording hook's log.
    static func log(_ name: String, in box: IMDSWatchContainer) async throws -> [String] {
        try await box.lines(of: "/var/lib/imdswatch-test/\(name).log")
    }

    /// Waits until the daemon is active again and has polled the spot path a few times: whatever it was going to fire
    /// for the notice being served, it has fired.
    static func settle(_ box: IMDSWatchContainer) async throws {
        #expect(await box.waitForMainPID() != nil, "imdswatch is not active")
        #expect(try await box.waitForSpotPolls(3), "imdswatch did not poll the spot path")
    }
}
