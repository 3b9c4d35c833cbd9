import Durability
import Events
import Logging
import Retry
import Subprocess
import Synchronization
import Telemetry

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs one hook: its own process group, no shell, the payload on stdin (complete before the hook starts), output
/// to the log line by line, a timeout with SIGTERM then SIGKILL to every process the hook started
/// (``HookProcessTree``: its process group, its descendants, and those that left with `setsid`).
package struct HookRunner: Sendable {

    /// Limits and timing of hook runs.
    package struct Configuration: Sendable {
        /// How long a hook may run before its process group gets SIGTERM (default 90 s).
        package var timeout: Duration
        /// How long after SIGTERM the process group gets SIGKILL (default 5 s).
        package var killGrace: Duration
        /// Longer output lines are cut to this many bytes (default 4 KiB).
        package var maxLineBytes: Int
        /// Output logged per hook and stream; the rest is read and counted but not logged (default 1 MiB).
        package var maxLoggedBytes: Int
        /// The waits before each new start of a hook that could not be executed because a process held it open for
        /// writing (ETXTBSY); ``RetryPolicy/busyStart`` by default: 20 ms, doubling, five times (620 ms in all).
        package var busyRetry: RetryPolicy

        /// Creates a configuration.
        package init(
            timeout: Duration = .seconds(90),
            killGrace: Duration = .seconds(5),
            maxLineBytes: Int = 4096,
            maxLoggedBytes: Int = 1 << 20,
            busyRetry: RetryPolicy = .busyStart
        ) {
            self.timeout = timeout
            self.killGrace = killGrace
            self.maxLineBytes = maxLineBytes
            self.maxLoggedBytes = maxLoggedBytes
            self.busyRetry = busyRetry
        }
    }

    /// The limits and timing.
    package var configuration: Configuration
    /// Where output lines and results go.
    package var logger: Logger
    /// Records each run of ``runSequence(_:for:dryRun:eventFileDirectory:extraEnvironment:willRun:didRun:)``
    /// (nothing by default).
    package var telemetry: Telemetry = .disabled
    /// Times the hook timeout, the kill grace, the waits before a busy hook is started again and the waits for free
    /// descriptors (tests pass a manual clock). The reported ``HookResult/duration`` is real elapsed time.
    package var clock: any Clock<Duration>
    /// Which processes each run owns (process-wide, like the subreaper setting; tests give each runner its own so
    /// that the runs of unrelated tests in one process do not own each other's processes).
    var processTree: HookProcessTree = .shared

    /// Creates a runner. Sets `SIGPIPE` to ignored in this process (hooks get the default back), so that a hook
    /// whose output pipe breaks cannot kill the daemon; and makes this process a child subreaper
    /// (`PR_SET_CHILD_SUBREAPER`), so that a hook's child that left with `setsid` and lost its parent is adopted
    /// here and can still be ended at the hook's timeout (see ``HookProcessTree``).
    /// - Parameters:
    ///   - configuration: Timeouts and output limits.
    ///   - logger: Where output lines and results go.
    ///   - clock: Times the timeouts and waits (see ``clock``).
    package init(configuration: Configuration = .init(), logger: Logger, clock: any Clock<Duration> = ContinuousClock())
    {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        HookFileSystem.ignoreBrokenPipeSignal()
        if !HookFileSystem.becomeChildSubreaper() {
            logger.warning(
                "cannot become a child subreaper: a hook's child that calls setsid and outlives its parent survives the hook's timeout"
            )
        }
    }

    /// Waits until the processes that finished hooks left behind have been ended at their hooks' timeouts (at
    /// once, when the calling task is cancelled). `hooks test` calls it before it exits.
    package func waitForLeftovers() async {
        await processTree.waitForLeftovers()
    }

    /// Ends what finished hooks leave behind at their hooks' timeouts, for as long as the calling task runs (the
    /// hook dispatcher's `run()` calls it); when cancelled, ends what is still left at once and returns once it is
    /// gone. Nothing else does it in the daemon: without it leftovers live until the unit's cgroup is stopped.
    package func sweepLeftovers() async {
        await processTree.sweepLeftovers()
    }

    /// Runs `hook` to completion (or until it is killed) and logs its output and result.
    ///
    /// Cancelling the calling task ends the hook at once: SIGTERM, then SIGKILL to every process it started.
    /// - Parameters:
    ///   - hook: The hook.
    ///   - payload: Its stdin: a sealed in-memory file holding these bytes, complete before the hook starts (a
    ///     hook never reads a partial or empty stdin, even when this process dies as it spawns the hook).
    ///   - environment: Variables added to (or, when `nil`, removed from) the daemon's environment.
    ///   - logger: The logger for this run (carrying the event's metadata); the hook name is added.
    /// - Returns: How it ended. Never throws: a hook that cannot start is a ``HookResult`` too.
    package func run(
        _ hook: Hook,
        payload: [UInt8],
        environment: [String: String?],
        logger: Logger? = nil
    ) async -> HookResult {
        var hookLogger = logger ?? self.logger
        hookLogger[metadataKey: LogField.hook] = .string(hook.name)
        let logger = hookLogger
        let elapsed = ContinuousClock()
        let start = elapsed.now
        let clock = self.clock
        let control = ProcessControl()
        var platformOptions = PlatformOptions()
        platformOptions.processGroupID = 0
        // Subprocess's own teardown when the run is cancelled (its grace on the real clock, which cannot be
        // injected there); the watchdog ends the same group and every other process of the run on `clock`.
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
                hook: hook.name, termination: .failedToStart("refused: \(reason)"), duration: elapsed.now - start,
                timedOut: false, stoppedAtShutdown: false
            )
            logResult(result, logger: logger)
            return result
        }

        // The payload is in the descriptor before the hook exists: nothing is written after the spawn.
        let stdin: Int32
        do {
            stdin = try HookFileSystem.sealedPayload(
                payload, fallbackDirectory: HookFileSystem.defaultEventFileDirectory())
        } catch {
            let result = HookResult(
                hook: hook.name, termination: .failedToStart("cannot prepare its stdin: \(error)"),
                duration: elapsed.now - start, timedOut: false, stoppedAtShutdown: false
            )
            logResult(result, logger: logger)
            return result
        }
        defer { HookFileSystem.closeDescriptor(stdin) }
        let tree = processTree
        let run = tree.register(timeout: configuration.timeout)
        control.run = run

        let outcome: HookResult.Termination = await withTaskGroup(of: Void.self) { group in
            group.addTask { await watchdog(control) }
            // A file that some process holds open for writing cannot be executed (ETXTBSY): a hook being saved at that
            // moment, or, in a process that writes a hook and forks at once, a child that still holds the descriptor
            // between fork and exec. Both pass within milliseconds, so the spawn is tried again (it has not run).
            let termination: HookResult.Termination = await {
                var attempts = 0
                while true {
                    attempts += 1
                    // Never spawn short of descriptors (swift-subprocess traps then): wait for them within the timeout.
                    if let shortage = await Self.waitForDescriptors(
                        within: configuration.timeout, hook: hook.name, clock: clock, logger: logger
                    ) {
                        return .failedToStart("\(SystemCall.describe(errno: shortage))")
                    }
                    do {
                        // Each start reads the payload from its beginning.
                        guard HookFileSystem.rewind(stdin) else { return .failedToStart("cannot rewind its stdin") }
                        let result = try await Subprocess.run(
                            .path(FilePath(file.executablePath)),
                            // argv[0] is the hook's path (a `#!` script sees the descriptor path as $0; see docs/hooks.md).
                            arguments: Arguments(executablePathOverride: hook.path, remainingValues: []),
                            environment: .inherit.updating(overrides),
                            platformOptions: platformOptions,
                            input: .fileDescriptor(FileDescriptor(rawValue: stdin), closeAfterSpawningProcess: false),
                            output: .sequence,
                            error: .sequence
                        ) { execution in
                            tree.spawned(run, pid: execution.processIdentifier.value)
                            await withTaskGroup(of: Void.self) { streams in
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
                        guard busy, attempts < configuration.busyRetry.maxAttempts, !Task.isCancelled else {
                            return .failedToStart("\(error)")
                        }
                        let delay = configuration.busyRetry.delay(beforeRetry: attempts)
                        logger.debug(
                            "hook \(hook.name) is open for writing elsewhere (text file busy): starting it again in \(delay)"
                        )
                        try? await clock.sleep(for: delay)
                    }
                }
            }()
            tree.hookEnded(run)
            if control.finish() { group.cancelAll() }
            await group.waitForAll()
            withExtendedLifetime(file) {}
            return termination
        }

        // Processes the hook left behind (a `cmd &` in its group, a `setsid cmd &` adopted here) get what the hook
        // would have got at its timeout; the run itself does not wait for them.
        if control.ending == .none {
            tree.endLeftovers(of: run, grace: configuration.killGrace, clock: clock) { count in
                logger.warning("the hook's timeout is up and \(count) processes it started still run: ending them")
            }
        } else {
            tree.deregister(run)
        }

        let result = HookResult(
            hook: hook.name, termination: outcome, duration: elapsed.now - start,
            timedOut: control.ending == .timeout, stoppedAtShutdown: control.ending == .shutdown
        )
        logResult(result, logger: logger)
        return result
    }

    /// Waits until a hook's run has the descriptors it needs (``HookFileSystem/descriptorShortage(_:)``), trying
    /// again on ``RetryPolicy/descriptorWait`` (50 ms, doubling up to 1 s); logs the shortage once at warning.
    /// - Parameters:
    ///   - limit: How long at most; `nil` until they are there or the task is cancelled.
    ///   - clock: What the waits are timed on.
    /// - Returns: `nil` once they are there; the errno when they are not within `limit` or the task is cancelled.
    static func waitForDescriptors(
        within limit: Duration?, hook: String?, clock: any Clock<Duration>, logger: Logger
    ) async -> Int32? {
        guard var shortage = HookFileSystem.descriptorShortage() else { return nil }
        let subject = hook.map { "hook \($0)" } ?? "the hooks"
        logger.warning("\(subject) wait for free descriptors (\(SystemCall.describe(errno: shortage)))")
        let policy = RetryPolicy.descriptorWait
        var waited = Duration.zero
        var retry = 1
        while limit.map({ waited < $0 }) ?? true, retry < policy.maxAttempts {
            let delay = policy.delay(beforeRetry: retry)
            do { try await clock.sleep(for: delay) } catch { return shortage }
            waited += delay
            retry += 1
            guard let again = HookFileSystem.descriptorShortage() else {
                logger.notice("\(subject) have free descriptors again")
                return nil
            }
            shortage = again
        }
        return shortage
    }

    /// Waits for the timeout (or for cancellation of the run), then SIGTERM, the grace period, SIGKILL.
    private func watchdog(_ control: ProcessControl) async {
        let shutdown: Bool
        do {
            try await clock.sleep(for: configuration.timeout)
            shutdown = false
        } catch {
            shutdown = true
        }
        guard control.expire(shutdown: shutdown), let run = control.run else { return }
        // The hook, its group and every process that left it (`setsid`): SIGTERM, the grace period (waited out at
        // shutdown too), SIGKILL.
        await processTree.end(run, grace: configuration.killGrace, clock: clock)
    }

    private func log(_ stream: SubprocessOutputSequence, as level: Logger.Level, logger: Logger) async {
        var lines = HookOutputLines(
            maxLineBytes: configuration.maxLineBytes, maxTotalBytes: configuration.maxLoggedBytes)
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
            logger.warning(
                "\(lines.suppressedBytes) more bytes of \(streamName) not logged (over \(configuration.maxLoggedBytes) bytes)"
            )
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

/// Shared between a run and its watchdog: the run's id in ``HookProcessTree``, whether it finished or timed out.
private final class ProcessControl: Sendable {
    enum Ending { case none, timeout, shutdown }

    private struct State {
        var run: Int?
        var finished = false
        var ending = Ending.none
    }

    private let state = Mutex(State())

    /// Marks the run finished; returns `true` when the watchdog may be cancelled (it has not fired).
    func finish() -> Bool {
        state.withLock { state in
            state.finished = true
            return state.ending == .none
        }
    }

    /// Marks the run as ended by its timeout or by shutdown; `false` when the run already finished.
    func expire(shutdown: Bool) -> Bool {
        state.withLock { state in
            guard !state.finished else { return false }
            state.ending = shutdown ? .shutdown : .timeout
            return true
        }
    }

    var ending: Ending { state.withLock { $0.ending } }

    /// The run's id in ``HookProcessTree``.
    var run: Int? {
        get { state.withLock { $0.run } }
        set { state.withLock { $0.run = newValue } }
    }

}
