import Foundation
import Synchronization

/// A long-running child process (the daemon, a simulator) whose output a test watches line by line.
package final class BackgroundProcess: Sendable {
    private let process: Process
    private let output: LineBuffer

    /// Starts `executable` with `arguments`; stdout and stderr are merged and collected.
    /// - Parameters:
    ///   - environment: Extra variables, added to this process's environment.
    ///   - removing: Variables to remove from the environment.
    package init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], removing: [String] = []
    ) throws {
        let process = Process()
        process.setCommand(executable, arguments, environment: environment, removing: removing)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let output = LineBuffer()
        self.output = output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            output.append(Array(data))
        }
        try process.run()
    }

    /// The process id.
    package var pid: Int32 { process.processIdentifier }

    /// Whether it still runs.
    package var isRunning: Bool { process.isRunning }

    /// Every complete output line so far.
    package var lines: [String] { output.lines }

    /// Waits until a line satisfying `predicate` appears.
    /// - Returns: The line, or `nil` if it did not appear within `timeout` or the process exited first.
    @discardableResult
    package func waitForLine(timeout: Duration = .seconds(10), where predicate: (String) -> Bool) async -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = lines.first(where: predicate) { return line }
            if !process.isRunning {
                try? await Task.sleep(for: .milliseconds(50))
                return lines.first(where: predicate)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// Sends `signal` to the process.
    package func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit, killing it after `timeout`.
    /// - Returns: Its exit status, or the terminating signal as reported by `Process`.
    @discardableResult
    package func wait(timeout: Duration = .seconds(10)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Sends SIGTERM and waits for the exit.
    @discardableResult
    package func stop(timeout: Duration = .seconds(10)) async -> Int32 {
        signal(SIGTERM)
        return await wait(timeout: timeout)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Splits a byte stream into lines, thread-safely.
private final class LineBuffer: Sendable {
    private let state = Mutex<(partial: [UInt8], lines: [String])>(([], []))

    func append(_ bytes: [UInt8]) {
        state.withLock { state in
            state.partial.append(contentsOf: bytes)
            while let newline = state.partial.firstIndex(of: 0x0A) {
                state.lines.append(String(decoding: state.partial[..<newline], as: UTF8.self))
                state.partial.removeSubrange(...newline)
            }
        }
    }

    var lines: [String] { state.withLock { $0.lines } }
}
