import Events
import Logging
import Subprocess
import Synchronization
import Telemetry

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs one hook: its own process group, no shell, the payload on stdin, output to the log line by line,
/// a timeout with SIGTERM then SIGKILL to the whole process group.
public struct HookRunner: Sendable {

    /// Limits and timing of hook runs.
    public struct Configuration: Sendable, Equatable {
        /// How long a hook may run before its process group gets SIGTERM (default 90 s).
        public var timeout: Duration
        /// How long after SIGTERM the process group gets SIGKILL (default 5 s).
        public var killGrace: Duration
        /// Longer output lines are cut to this many bytes (default 4 KiB).
        public var maxLineBytes: Int
        /// Output logged per hook and stream; the rest is read and counted but not logged (default 1 MiB).
        public var maxLoggedBytes: Int
        /// The waits before each new start of a hook that could not be executed because a process held it open for
        /// writing (ETXTBSY); default 20 ms, doubling, five times (620 ms in all).
        public var busyRetryDelays: [Duration]

        /// Creates a configuration.
        public init(
            timeout: Duration = .seconds(90),
            killGrace: Duration = .seconds(5),
            maxLineBytes: Int = 4096,
            maxLoggedBytes: Int = 1 << 20,
            busyRetryDelays: [Duration] = [20, 40, 80, 160, 320].map { .milliseconds($0) }
        ) {
            self.timeout = timeout
            self.killGrace = killGrace
            self.maxLineBytes = maxLineBytes
            self.maxLoggedBytes = maxLoggedBytes
            self.busyRetryDelays = busyRetryDelays
        }
    }

    /// The limits and timing.
    public var configuration: Configuration
    /// Where output lines and results go.
    public var logger: Logger
    /// Records each run of ``runSequence(_:for:dryRun:eventFileDirectory:extraEnvironment:willRun:didRun:)``
    /// (nothing by default).
    public var telemetry: Telemetry = .disabled

    /// Creates a runner. Sets `SIGPIPE` to ignored in this process (hooks get the default back), so that a hook
    /// that exits without reading its stdin cannot kill the daemon.
    public init(configuration: Configuration = .init(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        HookFileSystem.ignoreBrokenPipeSignal()
    }

    /// Runs `hook` to completion (or until it is killed) and logs its output and result.
    ///
    /// Cancelling the calling task ends the hook at once: SIGTERM, then SIGKILL to its process group.
    /// - Parameters:
    ///   - hook: The hook.
    ///   - payload: Bytes written to its stdin, followed by end-of-file.
    ///   - environment: Variables added to (or, when `nil`, removed from) the daemon's environment.
    ///   - logger: The logger for this run (carrying the event's metadata); the hook name is added.
    /// - Returns: How it ended. Never throws: a hook that cannot start is a ``HookResult`` too.
    public func run(
        _ hook: Hook,
        payload: [UInt8],
        environment: [String: String?],
        logger: Logger? = nil
    ) async -> HookResult {
        var hookLogger = logger ?? self.logger
        hookLogger[metadataKey: LogField.hook] = .string(hook.name)
        let logger = hookLogger
        let clock = ContinuousClock()
        let start = clock.now
        let control = ProcessControl()
        var platformOptions = PlatformOptions()
        platformOptions.processGroupID = 0
        platformOptions.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: configuration.killGrace)
        ]
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment { overrides[Environment.Key(stringLiteral: key)] = value }
        // Checked on the descriptor it runs from: a file swapped after the catalog looked is not what runs.
        let file: HookFile
        switch HookFile.open(hook.path, owner: HookFileSystem.effectiveUserID) {
        case .opened(let opened): file = opened
        case .refused(let reason):
            let result = HookResult(
                hook: hook.name, termination: .failedToStart("refused: \(reason)"), duration: clock.now - start,
                timedOut: false, stoppedAtShutdown: false
            )
            logResult(result, logger: logger)
            return result
        }

        let outcome: HookResult.Termination = await withTaskGroup(of: Void.self) { group in
            group.addTask { await watchdog(control) }
            // A file that some process holds open for writing cannot be executed (ETXTBSY): a hook being saved at that
            // moment, or, in a process that writes a hook and forks at once, a child that still holds the descriptor
            // between fork and exec. Both pass within milliseconds, so the spawn is tried again (it has not run).
            let termination: HookResult.Termination = await {
                var retryDelays = configuration.busyRetryDelays[...]
                while true {
                    // Never spawn short of descriptors (swift-subprocess traps then): wait for them within the timeout.
                    if let shortage = await Self.waitForDescriptors(within: configuration.timeout, hook: hook.name, logger: logger) {
                        return .failedToStart("\(HookFileSystem.describe(errno: shortage))")
                    }
                    do {
                        let result = try await Subprocess.run(
                            .path(FilePath(file.executablePath)),
                            // argv[0] is the hook's path (a `#!` script sees the descriptor path as $0; see docs/hooks.md).
                            arguments: Arguments(executablePathOverride: hook.path, remainingValues: []),
                            environment: .inherit.updating(overrides),
                            platformOptions: platformOptions,
                            input: .inputWriter,
                            output: .sequence,
                            error: .sequence
                        ) { execution in
                            control.started(processGroup: execution.processIdentifier.value)
                            await withTaskGroup(of: Void.self) { streams in
                                streams.addTask {
                                    _ = try? await execution.standardInputWriter.write(payload)
                                    try? await execution.standardInputWriter.finish()
                                }
                                streams.addTask { await log(execution.standardOutput, as: .info, logger: logger) }
                                streams.addTask { await log(execution.standardError, as: .warning, logger: logger) }
                            }
                        }
                        switch result.terminationStatus {
                        case .exited(let status): return .exited(status)
                        case .signaled(let signal): return .signaled(signal)
                        }
                    } catch {
                        let busy = (error as? SubprocessError)?.underlyingError == .textFileBusy
                        guard busy, let delay = retryDelays.popFirst(), !Task.isCancelled else { return .failedToStart("\(error)") }
                        logger.debug("hook \(hook.name) is open for writing elsewhere (text file busy): starting it again in \(delay)")
                        try? await Task.sleep(for: delay)
                    }
                }
            }()
            if control.finish() { group.cancelAll() }
            await group.waitForAll()
            withExtendedLifetime(file) {}
            return termination
        }

        // Processes the hook left behind in its group (a `cmd &` that outlived it) get what the hook would have got
        // at its timeout; the run itself does not wait for them.
        if control.ending == .none, let group = control.processGroup, HookFileSystem.processGroupExists(group) {
            let remaining = configuration.timeout - (clock.now - start)
            let grace = configuration.killGrace
            Task.detached { await Self.endLeftovers(of: group, after: remaining, grace: grace, logger: logger) }
        }

        let result = HookResult(
            hook: hook.name, termination: outcome, duration: clock.now - start,
            timedOut: control.ending == .timeout, stoppedAtShutdown: control.ending == .shutdown
        )
        logResult(result, logger: logger)
        return result
    }

    /// Waits until a hook's run has the descriptors it needs (``HookFileSystem/descriptorShortage(_:)``), trying
    /// again 50 ms later and doubling up to 1 s; logs the shortage once at warning.
    /// - Parameter limit: How long at most; `nil` until they are there or the task is cancelled.
    /// - Returns: `nil` once they are there; the errno when they are not within `limit` or the task is cancelled.
    static func waitForDescriptors(within limit: Duration?, hook: String?, logger: Logger) async -> Int32? {
        guard var shortage = HookFileSystem.descriptorShortage() else { return nil }
        let subject = hook.map { "hook \($0)" } ?? "the hooks"
        logger.warning("\(subject) wait for free descriptors (\(HookFileSystem.describe(errno: shortage)))")
        let deadline = limit.map { ContinuousClock.now + $0 }
        var delay = Duration.milliseconds(50)
        while deadline.map({ ContinuousClock.now < $0 }) ?? true {
            do { try await Task.sleep(for: delay) } catch { return shortage }
            guard let again = HookFileSystem.descriptorShortage() else {
                logger.notice("\(subject) have free descriptors again")
                return nil
            }
            shortage = again
            delay = min(delay * 2, .seconds(1))
        }
        return shortage
    }

    /// Waits for the timeout (or for cancellation of the run), then SIGTERM, the grace period, SIGKILL.
    private func watchdog(_ control: ProcessControl) async {
        let shutdown: Bool
        do {
            try await Task.sleep(for: configuration.timeout)
            shutdown = false
        } catch {
            shutdown = true
        }
        guard let group = control.expire(shutdown: shutdown) else { return }
        HookFileSystem.signalProcessGroup(group, HookFileSystem.terminateSignal)
        // Wait out the grace period (at shutdown too: the sleeps run in a task that is not cancelled), or less
        // when the whole group has gone already.
        let clock = ContinuousClock()
        let killAt = clock.now + configuration.killGrace
        while clock.now < killAt, HookFileSystem.processGroupExists(group) {
            let step = min(.milliseconds(50), killAt - clock.now)
            await Task { try? await Task.sleep(for: step) }.value
        }
        HookFileSystem.signalProcessGroup(group, HookFileSystem.killSignal)
    }

    /// Waits `delay`, then ends what is left of a finished hook's process group: SIGTERM, then SIGKILL after
    /// `grace` (or as soon as the group is gone).
    private static func endLeftovers(of group: Int32, after delay: Duration, grace: Duration, logger: Logger) async {
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard HookFileSystem.processGroupExists(group) else { return }
        logger.warning("the hook's timeout is up and processes it started still run in its process group \(group): ending them")
        HookFileSystem.signalProcessGroup(group, HookFileSystem.terminateSignal)
        let clock = ContinuousClock()
        let killAt = clock.now + grace
        while clock.now < killAt, HookFileSystem.processGroupExists(group) {
            try? await Task.sleep(for: min(.milliseconds(50), killAt - clock.now))
        }
        HookFileSystem.signalProcessGroup(group, HookFileSystem.killSignal)
    }

    private func log(_ stream: SubprocessOutputSequence, as level: Logger.Level, logger: Logger) async {
        var lines = HookOutputLines(maxLineBytes: configuration.maxLineBytes, maxTotalBytes: configuration.maxLoggedBytes)
        let streamName = level == .info ? "stdout" : "stderr"
        func emit(_ line: HookOutputLines.Line) {
            let suffix = line.truncatedBytes > 0 ? " […\(line.truncatedBytes) more bytes]" : ""
            logger.log(level: level, "\(line.text)\(suffix)", metadata: ["imdswatch_hook_stream": .string(streamName)])
        }
        do {
            for try await buffer in stream {
                let chunk = buffer.withUnsafeBytes { Array($0) }
                for line in lines.append(chunk) { emit(line) }
            }
        } catch {
            logger.debug("stopped reading \(streamName): \(error)")
        }
        if let last = lines.finish() { emit(last) }
        if lines.suppressedBytes > 0 {
            logger.warning("\(lines.suppressedBytes) more bytes of \(streamName) not logged (over \(configuration.maxLoggedBytes) bytes)")
        }
    }

    private func logResult(_ result: HookResult, logger: Logger) {
        let metadata: Logger.Metadata = [LogField.hookExitStatus: .stringConvertible(result.exitStatus)]
        if result.succeeded {
            logger.info("hook \(result.hook) finished: \(result.summary)", metadata: metadata)
        } else {
            logger.error("hook \(result.hook) failed: \(result.summary)", metadata: metadata)
        }
    }
}

/// Shared between a run and its watchdog: the process group once known, whether the run finished or timed out.
private final class ProcessControl: Sendable {
    enum Ending { case none, timeout, shutdown }

    private struct State {
        var processGroup: Int32?
        var finished = false
        var ending = Ending.none
    }

    private let state = Mutex(State())

    func started(processGroup: Int32) {
        state.withLock { $0.processGroup = processGroup }
    }

    /// Marks the run finished; returns `true` when the watchdog may be cancelled (it has not fired).
    func finish() -> Bool {
        state.withLock { state in
            state.finished = true
            return state.ending == .none
        }
    }

    /// Marks the run as ended by its timeout or by shutdown and returns the group to signal, or `nil` when the
    /// run already finished.
    func expire(shutdown: Bool) -> Int32? {
        state.withLock { state in
            guard !state.finished else { return nil }
            state.ending = shutdown ? .shutdown : .timeout
            return state.processGroup
        }
    }

    var ending: Ending { state.withLock { $0.ending } }

    /// The hook's process group, once started.
    var processGroup: Int32? { state.withLock { $0.processGroup } }
}
