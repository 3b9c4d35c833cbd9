import Events
import Foundation
import Simulator

/// Runs the real `imdswatch run` binary against an in-process simulator, with a recording hook, in a temp dir.
///
/// The recording hook (`hooks.d/00-record`) writes each payload to `records/<n>-<type>.json`, so tests read exactly
/// what a user's hook would have read on stdin.
package final class DaemonHarness: Sendable {
    package let simulator: IMDSSimulator
    package let directory: String
    package let stateDir: String
    package let hooksDir: String
    package let recordsDir: String
    private let extraArguments: [String]
    private let environment: [String: String]
    private let logTarget: String
    private let imdsTimeout: String
    private let current = LockedProcess()

    /// Creates the directories and the recording hook; the daemon starts with ``start()``.
    /// - Parameters:
    ///   - arguments: Extra `run` arguments.
    ///   - environment: Extra environment (systemd's variables are removed unless given here).
    ///   - logTarget: `--log-target` (stderr by default, so that tests can read the lines).
    ///   - imdsTimeout: `--imds-timeout` in seconds.
    package init(
        simulator: IMDSSimulator, arguments: [String] = [], environment: [String: String] = [:],
        logTarget: String = "stderr", imdsTimeout: String = "0.5"
    ) throws {
        self.logTarget = logTarget
        self.imdsTimeout = imdsTimeout
        self.simulator = simulator
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imdswatch-e2e-\(UUID().uuidString)")
            .path
        self.directory = base
        self.stateDir = base + "/state"
        self.hooksDir = base + "/hooks.d"
        self.recordsDir = base + "/records"
        self.extraArguments = arguments
        self.environment = environment
        for dir in [stateDir, hooksDir, recordsDir] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let hook = """
            #!/bin/sh
            n=$(ls "\(recordsDir)" | wc -l)
            cat > "\(recordsDir)/.tmp-$$"
            mv "\(recordsDir)/.tmp-$$" "\(recordsDir)/$(printf %05d "$n")-$IMDSWATCH_EVENT_TYPE.json"
            """
        try installHook(named: "00-record", script: hook)
    }

    /// Writes an executable hook (mode 0755) into hooks.d (or a `TYPE.d` sub-directory via `named: "TYPE.d/NAME"`).
    package func installHook(named name: String, script: String) throws {
        let path = hooksDir + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    /// The arguments the daemon runs with.
    package var arguments: [String] {
        [
            "run", "--endpoint", simulator.baseURL, "--state-dir", stateDir, "--hooks-dir", hooksDir,
            "--interval", "0.1", "--log-target", logTarget, "--imds-timeout", imdsTimeout,
        ] + extraArguments
    }

    /// Starts (or restarts) the daemon and waits for its first completed round.
    @discardableResult
    package func start(waitForReady: Bool = true) async throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            ProcessRunner.imdswatchPath, arguments,
            environment: environment.merging(["IMDSWATCH_TEST": "1"]) { a, _ in a },
            removing: ["NOTIFY_SOCKET", "JOURNAL_STREAM", "INVOCATION_ID", "WATCHDOG_USEC"]
        )
        current.set(process)
        if waitForReady {
            guard
                await process.waitForLine(
                    timeout: .seconds(15), where: { $0.contains("first round of polls finished") }) != nil
            else {
                throw HarnessError(message: "daemon not ready: \(process.lines.suffix(20).joined(separator: "\n"))")
            }
        }
        return process
    }

    /// The running daemon.
    package var process: BackgroundProcess? { current.get() }

    /// Every recorded payload so far, in order, parsed.
    package func records() -> [JSONValue] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: recordsDir)) ?? []).filter {
            !$0.hasPrefix(".")
        }.sorted()
        return names.compactMap { name in
            guard let text = try? String(contentsOfFile: recordsDir + "/" + name, encoding: .utf8) else { return nil }
            return try? JSONDocument.parse(text)
        }
    }

    /// Recorded payloads of one type.
    package func records(of type: EventType) -> [JSONValue] {
        records().filter { $0["type"]?.stringValue == type.rawValue }
    }

    /// Waits until `count` payloads of `type` are recorded; returns them (possibly fewer on timeout).
    @discardableResult
    package func waitForRecords(of type: EventType, count: Int = 1, timeout: Duration = .seconds(10)) async
        -> [JSONValue]
    {
        await waitForValue(timeout: timeout) { () -> [JSONValue]? in
            let found = records(of: type)
            return found.count >= count ? found : nil
        } ?? records(of: type)
    }

    /// Stops the daemon with SIGTERM and removes the temp dir.
    package func tearDown() async {
        if let process = current.get() { await process.stop() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A harness setup failure, with the daemon's last output.
package struct HarnessError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

private final class LockedProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var process: BackgroundProcess?
    func set(_ value: BackgroundProcess) {
        lock.lock()
        process = value
        lock.unlock()
    }
    func get() -> BackgroundProcess? {
        lock.lock()
        defer { lock.unlock() }
        return process
    }
}
