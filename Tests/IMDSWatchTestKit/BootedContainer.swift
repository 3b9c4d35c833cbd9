import Foundation

/// A Debian 12 root booted with `systemd-nspawn --boot`: systemd as PID 1, a private network (only its own loopback),
/// and an overlay over the cached root so the root stays pristine. Commands run inside with `nsenter` into every
/// namespace of the container's PID 1, as root.
///
/// Made by ``boot(root:binds:)``; ended by ``shutdown()`` (SIGKILL to the container's PID 1, which ends every
/// process in its PID namespace, then nspawn cleans up and exits). Tests reach a booted container through
/// ``BootedContainerScope``, which boots one per suite.
package final class BootedContainer: Sendable {
    /// A host directory bind-mounted into the container.
    package struct Bind: Sendable {
        package var host: String
        package var container: String
        package var readOnly: Bool

        /// - Parameters:
        ///   - host: The directory on the host.
        ///   - container: Where it appears inside.
        ///   - readOnly: Whether the container may write to it.
        package init(host: String, container: String, readOnly: Bool = false) {
            self.host = host
            self.container = container
            self.readOnly = readOnly
        }
    }

    /// Why a container could not be booted or a command inside failed: one line, with what was seen.
    package struct Failure: Error, CustomStringConvertible {
        package var description: String

        package init(_ description: String) { self.description = description }
    }

    /// The systemd-nspawn process, in its own cgroup (Tests/support/in-own-cgroup, which removes the cgroup when
    /// nspawn has exited).
    private let nspawn: BackgroundProcess
    /// The container's PID 1 (systemd), as a host pid.
    package let leader: Int32
    /// The container's machine name (also its hostname).
    package let name: String

    private init(nspawn: BackgroundProcess, leader: Int32, name: String) {
        self.nspawn = nspawn
        self.leader = leader
        self.name = name
    }

    /// Boots `root` and waits until systemd reports the system running (`degraded` counts: a unit that cannot start
    /// in a container is not what the tests look at).
    /// - Parameters:
    ///   - root: The root directory (``ContainerRoot/path()``).
    ///   - binds: Host directories to bind-mount.
    /// - Returns: The booted container.
    /// - Throws: ``Failure`` when nspawn exits, PID 1 does not appear, or the boot does not finish within two minutes
    ///   (the container is killed then).
    package static func boot(root: String, binds: [Bind] = []) async throws -> BootedContainer {
        let name = "imdswatch-test-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        var arguments = [
            "--boot", "--directory=\(root)", "--machine=\(name)", "--private-network", "--register=no", "--keep-unit",
            "--volatile=overlay", "--console=passive", "--quiet",
        ]
        for bind in binds {
            arguments.append("--\(bind.readOnly ? "bind-ro" : "bind")=\(bind.host):\(bind.container)")
        }
        // SYSTEMD_NSPAWN_UNIFIED_HIERARCHY is left to nspawn: it picks what the host's cgroup tree allows. In a cgroup
        // of its own (Tests/support/in-own-cgroup), so that two containers never share their units' cgroups.
        let wrapper = ContainerRoot.repository.appendingPathComponent("Tests/support/in-own-cgroup").path
        let nspawn = try BackgroundProcess(wrapper, [name, "/usr/bin/systemd-nspawn"] + arguments)
        guard
            let leader = await waitForValue(timeout: .seconds(60), every: .milliseconds(50), { leaderPid(of: nspawn) })
        else {
            let lines = nspawn.lines.suffix(20).joined(separator: "\n")
            for child in children(of: nspawn.pid) { kill(child, SIGKILL) }
            await nspawn.wait()
            throw Failure("systemd-nspawn started no PID 1 (exited: \(!nspawn.isRunning)); its output:\n\(lines)")
        }
        let container = BootedContainer(nspawn: nspawn, leader: leader, name: name)
        let state = await waitForValue(timeout: .seconds(120), every: .milliseconds(200)) { () -> String? in
            guard nspawn.isRunning else { return "nspawn exited" }
            let outcome = try? await container.run("systemctl is-system-running", timeout: .seconds(10))
            let state = outcome?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return ["running", "degraded"].contains(state) ? state : nil
        }
        guard state == "running" || state == "degraded" else {
            let jobs =
                (try? await container.run("systemctl list-jobs --no-pager; systemctl --failed --no-pager"))?.stdout
                ?? ""
            await container.shutdown()
            throw Failure(
                "the container did not finish booting (\(state ?? "timed out")); pending jobs:\n\(jobs)\n\(nspawn.lines.suffix(20).joined(separator: "\n"))"
            )
        }
        return container
    }

    /// The container's PID 1: the grandchild of the wrapper (its child is nspawn) whose innermost pid is 1.
    private static func leaderPid(of wrapper: BackgroundProcess) -> Int32? {
        guard wrapper.isRunning else { return nil }
        for child in children(of: wrapper.pid).flatMap(children(of:)) {
            let status = (try? String(contentsOfFile: "/proc/\(child)/status", encoding: .utf8)) ?? ""
            let nspid = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?.split(
                whereSeparator: \.isWhitespace)
            if let nspid, nspid.count >= 3, nspid.last == "1" { return child }
        }
        return nil
    }

    /// The children of process `pid` (every thread's).
    private static func children(of pid: Int32) -> [Int32] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            return text.split(separator: " ").compactMap { Int32($0) }
        }
    }

    /// Runs a shell script inside the container as root, with a clean environment (PATH, LANG=C.UTF-8).
    /// - Parameters:
    ///   - script: `/bin/sh -c` script.
    ///   - timeout: How long it may run before it is killed (ends a hung test; not a speed check).
    /// - Returns: Its outcome; a non-zero exit is a result, not an error.
    /// - Throws: When nsenter cannot be started.
    package func run(_ script: String, timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Outcome {
        try await ProcessRunner.run("/usr/bin/nsenter", nsenterArguments(script), timeout: timeout)
    }

    /// ``run(_:timeout:)`` that must succeed.
    /// - Returns: Its stdout.
    /// - Throws: ``Failure`` naming the script, its status and stderr when it exits non-zero.
    @discardableResult
    package func require(_ script: String, timeout: Duration = .seconds(60)) async throws -> String {
        let outcome = try await run(script, timeout: timeout)
        guard outcome.status == 0 else {
            throw Failure("in the container, `\(script)` exited \(outcome.status): \(outcome.stderr)\(outcome.stdout)")
        }
        return outcome.stdout
    }

    private func nsenterArguments(_ script: String) -> [String] {
        [
            "--target", String(leader), "--all", "--", "/usr/bin/env", "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root",
            "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", "/bin/sh", "-c", script,
        ]
    }

    /// Kills the container (every process in it) and waits for nspawn to clean up and exit.
    package func shutdown() async {
        if nspawn.isRunning { kill(leader, SIGKILL) }
        await nspawn.wait(timeout: .seconds(30))
    }
}
