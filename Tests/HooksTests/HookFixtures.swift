import Events
import Foundation
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Retry
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization

@testable import Hooks

/// A temporary hooks directory with helpers to write scripts into it; removed by ``remove()``.
struct HooksDirectory {
    let path: String

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/imdswatch-hooks-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: created)
        // mkdtemp makes it 0700, which is safe for the catalog.
    }

    /// Writes a file relative to the hooks directory (creating `TYPE.d`), with `mode`.
    @discardableResult
    func write(_ relativePath: String, _ text: String, mode: Int = 0o755) throws -> String {
        let full = "\(path)/\(relativePath)"
        let parent = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        chmod(full, mode_t(mode))
        return full
    }

    /// A `/bin/sh` script with `body`.
    @discardableResult
    func script(_ relativePath: String, _ body: String, mode: Int = 0o755) throws -> String {
        try write(relativePath, "#!/bin/sh\n\(body)\n", mode: mode)
    }

    func read(_ relativePath: String) -> String? {
        try? String(contentsOfFile: "\(path)/\(relativePath)", encoding: .utf8)
    }

    /// The process id a hook wrote to `relativePath` (`echo $$ > file`), once it is there: the shell creates the
    /// file before it writes to it, so a file that exists may still be empty. Waits for the hook's process (real
    /// time, a bound for a hung test only).
    func pid(in relativePath: String) async -> Int32? {
        await waitForValue { Int32((read(relativePath) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func exists(_ relativePath: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(path)/\(relativePath)")
    }

    var catalog: HookCatalog { HookCatalog(directory: path) }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A logger writing to memory at debug level, and its handler to read the entries.
func memoryLogger() -> (Logger, InMemoryLogHandler) {
    let handler = InMemoryLogHandler()
    var logger = Logger(label: "test") { _ in handler }
    logger.logLevel = .trace
    return (logger, handler)
}

extension InMemoryLogHandler.Entry {
    var text: String { message.description }
    func field(_ key: String) -> String? { metadata[key].map { "\($0)" } }
}

/// A synthetic event of `type`, detected now.
func syntheticEvent(_ type: EventType) -> Event {
    SyntheticEvents.event(type, nowMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
}

/// A runner with short limits for tests.
func testRunner(
    logger: Logger,
    timeout: Duration = .seconds(30),
    killGrace: Duration = .seconds(1),
    maxLoggedBytes: Int = 1 << 20,
    busyRetry: RetryPolicy = .busyStart,
    clock: any Clock<Duration> = ContinuousClock()
) -> HookRunner {
    var runner = HookRunner(
        configuration: .init(
            timeout: timeout, killGrace: killGrace, maxLineBytes: 4096, maxLoggedBytes: maxLoggedBytes,
            busyRetry: busyRetry
        ),
        logger: logger,
        clock: clock
    )
    // The tests of this target share one process (a subreaper): a tree per runner keeps the runs of unrelated tests
    // from owning each other's adopted processes (one test's leftovers would otherwise wait for another's timeout).
    runner.processTree = HookProcessTree()
    return runner
}

/// Whether process `pid` is alive (a zombie counts as dead: it runs nothing).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// The repository's `hooks.d/` with the shipped example hooks.
let shippedHooksDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.appendingPathComponent("hooks.d").path
}()

/// A running dispatcher's graceful shutdown, as its `ServiceGroup` would trigger it on SIGTERM.
final class DispatcherShutdown: Sendable {
    private let shutdownTrigger: GracefulShutdownTestTrigger
    private let ended = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    fileprivate init(trigger: GracefulShutdownTestTrigger) {
        self.shutdownTrigger = trigger
    }

    /// Triggers the graceful shutdown without waiting for it.
    func trigger() {
        shutdownTrigger.triggerGracefulShutdown()
    }

    /// Triggers the graceful shutdown and waits until the dispatcher's `run()` has returned.
    func callAsFunction() async {
        shutdownTrigger.triggerGracefulShutdown()
        await withCheckedContinuation { continuation in
            let done = ended.withLock { ended in
                if !ended.done { ended.waiters.append(continuation) }
                return ended.done
            }
            if done { continuation.resume() }
        }
    }

    fileprivate func runEnded() {
        let waiters = ended.withLock { ended in
            ended.done = true
            defer { ended.waiters.removeAll() }
            return ended.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Runs `dispatcher` as its service for the duration of `body` (which may shut it down through its argument);
/// shuts it down gracefully at the end and waits for `run()` to return.
func withRunning<T>(
    _ dispatcher: HookDispatcher, _ body: (DispatcherShutdown) async throws -> T
) async throws -> T {
    try await testGracefulShutdown { trigger in
        let shutdown = DispatcherShutdown(trigger: trigger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                await dispatcher.run()
                shutdown.runEnded()
            }
            do {
                let result = try await body(shutdown)
                await shutdown()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}
