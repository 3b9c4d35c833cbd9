import Foundation
import Synchronization

/// Runs the built `imdswatch` binary (or any program) the way a user would, for end-to-end tests.
package enum ProcessRunner {
    /// The outcome of a finished process.
    package struct Outcome: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
        package var elapsed: Duration
        /// Stdout exactly as written (``stdout`` decodes it as UTF-8, replacing invalid bytes).
        package var stdoutBytes: [UInt8] = []
    }

    /// The path of the `imdswatch` binary under test: `$TEST_IMDSWATCH_BINARY`, else next to the test bundle.
    package static var imdswatchPath: String {
        if let path = ProcessInfo.processInfo.environment["TEST_IMDSWATCH_BINARY"], !path.isEmpty {
            return path
        }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var directory = bundle
        // On Linux the test binary sits in .build/<triple>/debug/; walk up until an imdswatch binary appears.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("imdswatch").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return bundle.appendingPathComponent("imdswatch").path
    }

    /// Runs a program to completion (or kills it after `timeout`) and captures its output, waiting with
    /// `Task.sleep`: parallel tests share the few threads of the cooperative pool, and a test waiting for its process
    /// must not hold one of them.
    /// - Parameters:
    ///   - executable: Absolute path of the program.
    ///   - arguments: Its arguments.
    ///   - environment: Extra environment variables, added to this process's.
    ///   - removing: Environment variables to remove.
    ///   - stdin: Bytes written to its standard input.
    ///   - timeout: The longest it may run.
    package static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        removing: [String] = [],
        stdin: String? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> Outcome {
        let running = try Running(executable, arguments, environment: environment, removing: removing, stdin: stdin)
        while running.process.isRunning, ContinuousClock.now < running.started + timeout {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if running.process.isRunning {
            running.process.terminate()
            try? await Task.sleep(for: .milliseconds(200))
        }
        return running.finish()
    }

    /// ``run(_:_:environment:removing:stdin:timeout:)`` for places that cannot await (`defer` cleanups, synchronous
    /// helpers): the same, but it blocks the calling thread while it waits. Keep it to short commands.
    package static func runBlocking(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = [:],
        removing: [String] = [],
        stdin: String? = nil,
        timeout: Duration = .seconds(30)
    ) throws -> Outcome {
        let running = try Running(executable, arguments, environment: environment, removing: removing, stdin: stdin)
        while running.process.isRunning, ContinuousClock.now < running.started + timeout {
            Thread.sleep(forTimeInterval: 0.01)
        }
        if running.process.isRunning {
            running.process.terminate()
            Thread.sleep(forTimeInterval: 0.2)
        }
        return running.finish()
    }

    /// A started process with its output being drained.
    private struct Running {
        let process = Process()
        let collector: OutputCollector
        let started = ContinuousClock.now
        /// When the process ended, noted by Foundation's termination handler: the waits above notice the exit a
        /// little later, and later still when the machine is loaded.
        private let ended = EndTime()

        init(
            _ executable: String, _ arguments: [String], environment: [String: String], removing: [String],
            stdin: String?
        ) throws {
            process.setCommand(executable, arguments, environment: environment, removing: removing)
            let out = Pipe()
            let err = Pipe()
            let input = Pipe()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = input
            process.terminationHandler = { [ended] _ in ended.mark() }
            try process.run()
            // A child that exits before reading all of its input (EPIPE) is a result for the test to judge, not a
            // trap in the runner (the non-throwing `write(_:)` traps on EPIPE).
            if let stdin { try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
            collector = OutputCollector(out: out, err: err)
        }

        /// Kills what a polite terminate left running, reaps it and returns its output.
        func finish() -> Outcome {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let (stdout, stderr) = collector.finish()
            let end = ended.instant ?? ContinuousClock.now
            return Outcome(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: stderr, elapsed: end - started, stdoutBytes: Array(stdout))
        }
    }

    /// The instant a process ended, set once from Foundation's termination handler.
    private final class EndTime: Sendable {
        private let value = Mutex<ContinuousClock.Instant?>(nil)

        func mark() { value.withLock { $0 = $0 ?? ContinuousClock.now } }

        var instant: ContinuousClock.Instant? { value.withLock { $0 } }
    }

    /// Runs the `imdswatch` binary under test.
    package static func imdswatch(
        _ arguments: [String],
        environment: [String: String] = [:],
        removing: [String] = [],
        timeout: Duration = .seconds(30)
    ) async throws -> Outcome {
        try await run(imdswatchPath, arguments, environment: environment, removing: removing, timeout: timeout)
    }
}

/// Drains a process's stdout and stderr on background threads so that a chatty process never blocks on a full pipe.
private final class OutputCollector: @unchecked Sendable {
    private let group = DispatchGroup()
    private var stdout = Data()
    private var stderr = Data()

    init(out: Pipe, err: Pipe) {
        group.enter()
        DispatchQueue.global().async {
            self.stdout = out.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            self.stderr = err.fileHandleForReading.readDataToEndOfFile()
            self.group.leave()
        }
    }

    func finish() -> (Data, String) {
        group.wait()
        return (stdout, String(decoding: stderr, as: UTF8.self))
    }
}
