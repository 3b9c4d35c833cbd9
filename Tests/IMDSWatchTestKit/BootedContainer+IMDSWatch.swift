import Foundation
import Testing

/// The package under test, as an operator gets it: the `.deb` that `scripts/package` built (`$TEST_IMDSWATCH_DEB`,
/// set by `scripts/test`).
package enum PackageUnderTest {
    /// The `.deb`'s path, or `nil` when `$TEST_IMDSWATCH_DEB` is not set.
    package static var deb: String? {
        guard let path = ProcessInfo.processInfo.environment["TEST_IMDSWATCH_DEB"], !path.isEmpty else { return nil }
        return path
    }

    /// Whether the booted-container tests run: with a package, and always in CI (`CI=true`), where a missing
    /// package fails them instead of leaving them out.
    package static var containerTestsEnabled: Bool {
        deb != nil || ["true", "1"].contains(ProcessInfo.processInfo.environment["CI"] ?? "")
    }

    /// A systemd drop-in installed for the unit before the package (`$TEST_CONTAINER_DROPIN`, the file's text), to
    /// show that a check fails when the behaviour it checks is removed: e.g. `[Service]` and `Restart=no` fail the
    /// SIGKILL test (docs/systemd.md, "Verified under PID 1").
    package static var mutationDropIn: String? {
        guard let text = ProcessInfo.processInfo.environment["TEST_CONTAINER_DROPIN"], !text.isEmpty else { return nil }
        return text
    }

    /// How to get a package, for the failure message.
    package static let howToBuild =
        "TEST_IMDSWATCH_DEB is not set: build the package with `scripts/package --only deb --fast` "
        + "and run with TEST_IMDSWATCH_DEB=dist/imdswatch_VERSION_ARCH.deb (scripts/test does both)"
}

/// The Debian 12 root the containers boot: `Tests/support/container-root`, which makes it once and caches it under
/// `.build/container-root/`.
package enum ContainerRoot {
    /// The repository root.
    package static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Makes the root if it is not cached yet (minutes, once per machine) and returns its path.
    /// - Throws: ``BootedContainer/Failure`` with the script's output when it fails.
    package static func path() async throws -> String {
        let script = repository.appendingPathComponent("Tests/support/container-root").path
        let outcome = try await ProcessRunner.run(script, [], timeout: .seconds(1200))
        let path = outcome.stdout.split(separator: "\n").last.map(String.init) ?? ""
        guard outcome.status == 0, FileManager.default.fileExists(atPath: path) else {
            throw BootedContainer.Failure(
                "Tests/support/container-root failed (\(outcome.status)): \(outcome.stderr.suffix(2000))")
        }
        return path
    }
}

/// A booted container with the simulator serving IMDS at 169.254.169.254:80 inside it and the package installed
/// with `dpkg -i`: the machine an operator installs imdswatch on, for the booted-container tests.
///
/// `/opt/imdswatch-test` inside is a host directory (``hostDirectory``): the package, the simulator's binary (the
/// package's own, extracted on the host) and whatever a test puts there.
package final class IMDSWatchContainer: Sendable {
    /// The container in use by the current suite (set by ``BootedContainerScope``).
    @TaskLocal package static var current: IMDSWatchContainer?

    package let container: BootedContainer
    /// The host directory mounted at ``sharedPath``.
    package let hostDirectory: URL
    /// Where ``hostDirectory`` appears inside.
    package let sharedPath = "/opt/imdswatch-test"
    /// The package as seen inside.
    package var debPath: String { "\(sharedPath)/imdswatch.deb" }
    /// The host path of the package under test.
    package let hostDeb: String
    /// How long ``ContainerRoot/path()`` took: debootstrap when the root was not cached, else next to nothing.
    package let rootTime: Duration

    private init(container: BootedContainer, hostDirectory: URL, hostDeb: String, rootTime: Duration) {
        self.container = container
        self.hostDirectory = hostDirectory
        self.hostDeb = hostDeb
        self.rootTime = rootTime
    }

    /// Boots a container, starts the simulator inside and installs the package.
    /// - Throws: ``BootedContainer/Failure`` (no package, no root, a boot, simulator or install that fails).
    package static func boot() async throws -> IMDSWatchContainer {
        guard let deb = PackageUnderTest.deb else { throw BootedContainer.Failure(PackageUnderTest.howToBuild) }
        guard FileManager.default.fileExists(atPath: deb) else {
            throw BootedContainer.Failure("TEST_IMDSWATCH_DEB=\(deb): no such file")
        }
        let rootStart = ContinuousClock.now
        let root = try await ContainerRoot.path()
        let rootTime = ContinuousClock.now - rootStart
        let host = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-container-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: deb, toPath: host.appendingPathComponent("imdswatch.deb").path)
        // The simulator is the package's own binary, run from a copy outside the package's files.
        let extract = try await ProcessRunner.run(
            "/usr/bin/dpkg-deb", ["-x", deb, host.appendingPathComponent("sim").path])
        guard extract.status == 0 else { throw BootedContainer.Failure("dpkg-deb -x \(deb): \(extract.stderr)") }

        let container = try await BootedContainer.boot(
            root: root, binds: [.init(host: host.path, container: "/opt/imdswatch-test")])
        let fixture = IMDSWatchContainer(container: container, hostDirectory: host, hostDeb: deb, rootTime: rootTime)
        do {
            try await fixture.startSimulator()
            if let dropIn = PackageUnderTest.mutationDropIn {
                try await fixture.write(dropIn, to: "/etc/systemd/system/imdswatch.service.d/mutation.conf")
            }
            try await fixture.installPackage()
        } catch {
            await fixture.shutdown()
            throw error
        }
        return fixture
    }

    /// Kills the container and removes the host directory.
    package func shutdown() async {
        await container.shutdown()
        try? FileManager.default.removeItem(at: hostDirectory)
    }

    /// Starts `imdswatch simulate` as a unit inside, on 169.254.169.254:80 (an address of the container's loopback).
    private func startSimulator() async throws {
        try await container.require(
            """
            ip link set lo up
            ip addr add 169.254.169.254/32 dev lo
            systemd-run --unit=imds-simulator --property=Restart=no \(sharedPath)/sim/usr/bin/imdswatch simulate --listen 169.254.169.254:80
            """)
        let up = await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
            (try? await self.container.run("curl -sf http://169.254.169.254/_sim/state >/dev/null").status) == 0
        }
        guard up else {
            let log = (try? await container.run("journalctl -u imds-simulator --no-pager | tail -20").stdout) ?? ""
            throw BootedContainer.Failure(
                "the simulator did not answer at 169.254.169.254:80 in the container:\n\(log)")
        }
    }

    /// `dpkg -i` of the package under test (or of `path` inside), which enables and starts the unit.
    /// - Throws: ``BootedContainer/Failure`` when dpkg fails.
    package func installPackage(_ path: String? = nil) async throws {
        try await container.require(
            "DEBIAN_FRONTEND=noninteractive dpkg -i \(path ?? debPath) 2>&1", timeout: .seconds(300))
    }

    /// Runs a shell script inside (``BootedContainer/run(_:timeout:)``).
    package func run(_ script: String, timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Outcome {
        try await container.run(script, timeout: timeout)
    }

    /// Runs a shell script inside that must succeed; returns its stdout (``BootedContainer/require(_:timeout:)``).
    @discardableResult
    package func require(_ script: String, timeout: Duration = .seconds(60)) async throws -> String {
        try await container.require(script, timeout: timeout)
    }

    /// Sends a request to the simulator's control API (`/_sim/PATH`) from inside.
    /// - Returns: The response body.
    @discardableResult
    package func simulator(_ method: String, _ path: String, body: String? = nil) async throws -> String {
        let data = body.map { " --data-binary \(Self.quoted($0))" } ?? ""
        return try await require("curl -sS --fail-with-body -X \(method) http://169.254.169.254/_sim/\(path)\(data)")
    }

    /// Writes `contents` to `path` inside, owned by root, with `mode`, creating its directory.
    package func write(_ contents: String, to path: String, mode: String = "0644") async throws {
        let encoded = Data(contents.utf8).base64EncodedString()
        try await require(
            """
            mkdir -p "$(dirname \(path))" && echo \(encoded) | base64 -d > \(path).new && chmod \(mode) \(path).new && mv \(path).new \(path)
            """)
    }

    /// Installs an executable hook under /etc/imdswatch/hooks.d (`relativePath`, e.g. `spot-interruption.d/10-x`).
    package func installHook(_ relativePath: String, script: String) async throws {
        try await write(script, to: "/etc/imdswatch/hooks.d/\(relativePath)", mode: "0755")
    }

    /// One property of a unit (`systemctl show -p NAME --value`).
    package func property(_ name: String, of unit: String = "imdswatch.service") async throws -> String {
        try await require("systemctl show -p \(name) --value \(unit)").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The daemon's main pid, or 0 when it is not running.
    package func mainPID() async throws -> Int {
        Int(try await property("MainPID")) ?? 0
    }

    /// Waits until the unit is active with a main pid other than `previous`, and returns that pid.
    /// - Returns: The new main pid, or `nil` when none came within `timeout`.
    package func waitForMainPID(other previous: Int = 0, timeout: Duration = .seconds(120)) async -> Int? {
        await waitForValue(timeout: timeout, every: .milliseconds(100)) {
            guard (try? await self.property("ActiveState")) == "active", let pid = try? await self.mainPID(),
                pid != 0, pid != previous
            else { return nil }
            return pid
        }
    }

    /// Lines of a file inside (empty when it does not exist).
    package func lines(of path: String) async throws -> [String] {
        try await require("cat \(path) 2>/dev/null || true").split(separator: "\n").map(String.init)
    }

    /// Waits until `path` inside has at least `count` lines matching `predicate`.
    /// - Returns: The file's lines when they came, else `nil`.
    package func waitForLines(
        in path: String, count: Int = 1, timeout: Duration = .seconds(120),
        where predicate: @Sendable (String) -> Bool = { _ in true }
    ) async -> [String]? {
        await waitForValue(timeout: timeout, every: .milliseconds(100)) {
            guard let lines = try? await self.lines(of: path), lines.filter(predicate).count >= count else {
                return nil
            }
            return lines
        }
    }

    /// The number of spot polls the simulator has answered since it started.
    package func spotPolls() async throws -> Int {
        try await polls(of: "meta-data/spot/instance-action")
    }

    /// Waits until the daemon has polled the spot path `count` more times: proof it has seen the current state.
    /// - Returns: Whether the polls came within `timeout`.
    package func waitForSpotPolls(_ count: Int, timeout: Duration = .seconds(60)) async throws -> Bool {
        try await waitForPolls(of: "meta-data/spot/instance-action", count, timeout: timeout)
    }

    /// The number of requests the simulator has answered for `path` (relative to `/latest/`) since it started.
    package func polls(of path: String) async throws -> Int {
        let stats = try await simulator("GET", "stats")
        let object = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any]
        let paths = object?["requestsByPath"] as? [String: Any]
        return (paths?[path] as? Int) ?? 0
    }

    /// Waits until the daemon has read `path` `count` more times: proof it has seen what is served there now.
    /// - Returns: Whether the reads came within `timeout`.
    package func waitForPolls(of path: String, _ count: Int, timeout: Duration = .seconds(60)) async throws -> Bool {
        let start = try await polls(of: path)
        return await eventually(timeout: timeout, every: .milliseconds(100)) {
            ((try? await self.polls(of: path)) ?? 0) >= start + count
        }
    }

    /// The directory of the unit's drop-ins.
    package static let dropInDirectory = "/etc/systemd/system/imdswatch.service.d"

    /// Installs a drop-in `test-NAME.conf` for the unit and restarts it with it (``resetBetweenTests()`` removes it):
    /// for the timing checks only (a shorter `WatchdogSec=`), the shipped unit otherwise.
    package func installTestDropIn(_ name: String, _ contents: String) async throws {
        try await write(contents, to: "\(Self.dropInDirectory)/test-\(name).conf")
        try await require("systemctl daemon-reload && systemctl restart imdswatch.service", timeout: .seconds(180))
    }

    /// Leaves the machine as the package left it, for the next test: installed (a test may have purged it), no test
    /// drop-in, the unit running, no hooks (a test that failed early may have left one running: its process group is
    /// killed), empty /var/lib/imdswatch-test and /run/imdswatch-test, no notice served
    /// and no fault, and a daemon that has seen the notices go (else a notice served next with a later time is, to it,
    /// the same occurrence: docs/events.md).
    package func resetBetweenTests() async throws {
        if try await run("dpkg-query -W -f '${Status}' imdswatch").stdout != "install ok installed" {
            try await installPackage()
        }
        try await require(
            """
            find /etc/imdswatch/hooks.d -mindepth 1 -not -type d -delete
            main=$(systemctl show -p MainPID --value imdswatch.service)
            if [ "${main:-0}" != 0 ]; then
                for hook in $(pgrep -P "$main"); do kill -KILL -- "-$hook" 2>/dev/null || kill -KILL "$hook"; done
            fi
            rm -rf /var/lib/imdswatch-test /run/imdswatch-test
            mkdir -p /var/lib/imdswatch-test /run/imdswatch-test
            if ls \(Self.dropInDirectory)/test-*.conf >/dev/null 2>&1; then
                rm -f \(Self.dropInDirectory)/test-*.conf
                systemctl daemon-reload
                systemctl restart imdswatch.service
            else
                systemctl start imdswatch.service
            fi
            """, timeout: .seconds(180))
        let state = try await simulator("GET", "state")
        let served = (try JSONSerialization.jsonObject(with: Data(state.utf8)) as? [String: Any]) ?? [:]
        try await simulator("DELETE", "faults")
        try await simulator("DELETE", "state")
        for (key, path) in [
            ("spot", "meta-data/spot/instance-action"), ("rebalance", "meta-data/events/recommendations/rebalance"),
        ] where served[key] != nil {
            guard try await waitForPolls(of: path, 2) else {
                throw BootedContainer.Failure("imdswatch did not read \(path) after the test's notice was cleared")
            }
        }
    }

    /// Single-quotes `text` for `/bin/sh`.
    package static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Boots one ``IMDSWatchContainer`` for a whole suite and tears it down after its last test: apply it to a suite
/// (`@Suite(.serialized, BootedContainerScope())`) and reach the container through ``IMDSWatchContainer/current``.
package struct BootedContainerScope: SuiteTrait, TestScoping {
    package init() {}

    package var isRecursive: Bool { false }

    package func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let started = ContinuousClock.now
        let fixture = try await IMDSWatchContainer.boot()
        let booted = ContinuousClock.now
        do {
            try await IMDSWatchContainer.$current.withValue(fixture) { try await function() }
        } catch {
            await fixture.shutdown()
            throw error
        }
        await fixture.shutdown()
        let end = ContinuousClock.now
        print(
            "booted-container tests (\(test.name)): root \(fixture.rootTime), boot and install \(booted - started - fixture.rootTime), tests \(end - booted), total \(end - started)"
        )
    }
}
