import Config
import Events
import Foundation
import HTTP
import IMDS
import Lifecycle
import Logging
import Simulator
import UnixSignals
import Watch

/// `imdswatch demo`: the whole product on a machine with no EC2. A simulator on 127.0.0.1, the watcher polling it
/// in-process (the daemon's poll loop, state store and hook runner), the shipped example hooks with fake commands
/// first on their PATH, and a scripted scenario; prints a timeline and a summary. Everything it writes is in one
/// temporary directory, removed at the end unless `keep` is set.
struct Demo: Sendable {
    /// How the demo ended.
    struct Outcome: Sendable {
        /// Event types that did not fire when the scenario expected them.
        var missing: [EventType]
        /// The counts: events by type, hooks run and failed, fake calls.
        var counts: DemoTimeline.Counts

        /// Every expected event fired and every hook exited 0.
        var succeeded: Bool { missing.isEmpty && counts.hooksFailed == 0 }
    }

    /// Keep the temporary directory and print its path.
    var keep: Bool
    /// The pause before each scenario step, so that a reader can follow (zero with `--fast`).
    var pace: Duration
    /// How long a step may take to fire its events before the demo calls them missing.
    var eventTimeout: Duration = .seconds(5)
    /// The watcher's poll interval.
    var interval: Duration = .milliseconds(200)

    /// Runs the demo.
    /// - Returns: What happened; the caller turns a failure into exit status 1.
    /// - Throws: ``DemoError`` or a system error when the demo cannot be set up (temp dir, simulator, binary path).
    func run() async throws -> Outcome {
        let scenario = try DemoScenario.standard()
        let workspace = try DemoWorkspace.create(hooks: ExampleHooks.files, realBinary: try Self.executablePath())
        let timeline = DemoTimeline(callsFile: workspace.callsFile)
        let result = await runUntilSignalled { try await run(scenario, in: workspace, timeline: timeline) }
        finish(workspace, timeline: timeline)
        return try result.get()
    }

    /// Runs `demo` until it returns or SIGINT/SIGTERM arrives; then it is cancelled and its clean-up (simulator,
    /// watcher, hooks) awaited, so that the caller can still remove the temp dir.
    private func runUntilSignalled(_ demo: @escaping @Sendable () async throws -> Outcome) async -> Result<Outcome, any Error> {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        return await withTaskGroup(of: Result<Outcome, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await demo()) } catch { return .failure(error) }
            }
            group.addTask {
                for await signal in signals { return .failure(DemoInterruption(signal: "\(signal)")) }
                return nil
            }
            var first: Result<Outcome, any Error>?
            while first == nil, let next = await group.next() {
                first = next
            }
            group.cancelAll()
            await group.waitForAll()
            return first ?? .failure(CancellationError())
        }
    }

    private func finish(_ workspace: DemoWorkspace, timeline: DemoTimeline) {
        if keep {
            timeline.plain("kept \(workspace.root) (hooks.d, bin/ with the fakes, state/, calls.log, imdswatch.log)")
        } else {
            workspace.remove()
        }
    }

    private func run(_ scenario: DemoScenario, in workspace: DemoWorkspace, timeline: DemoTimeline) async throws -> Outcome {
        let simulator = try await IMDSSimulator.start(host: "127.0.0.1", port: 0)
        do {
            let outcome = try await watch(simulator, play: scenario, in: workspace, timeline: timeline)
            try await simulator.stop()
            return outcome
        } catch {
            try? await simulator.stop()
            throw error
        }
    }

    /// Starts the watcher against the simulator, plays the scenario step by step (each step waits for its events
    /// and their hooks), stops the watcher and prints the summary.
    private func watch(
        _ simulator: IMDSSimulator, play scenario: DemoScenario, in workspace: DemoWorkspace, timeline: DemoTimeline
    ) async throws -> Outcome {
        let logFile = try DemoLogFile(path: workspace.logFile)
        let logger = Logger(label: "imdswatch") { DemoLogHandler(label: $0, file: logFile, timeline: timeline) }
        let sink = DemoHookSink(
            workspace: workspace, environment: hookEnvironment(workspace: workspace, endpoint: simulator.baseURL),
            timeline: timeline, logger: logger
        )
        var configuration = PollerConfiguration(interval: interval)
        configuration.notConfiguredInterval = .seconds(1)
        let imds = IMDSClient(
            endpoint: try IMDSEndpoint(url: simulator.baseURL),
            transport: CurlTransport(options: .init(proxy: .never)),
            clock: ContinuousClock(), logger: logger
        )
        let lifecycle = lifecycleActions(simulator: simulator, imds: imds, downstream: sink, stateDir: workspace.stateDir, logger: logger)
        await sink.observeSequences { event, results in await lifecycle.sequenceEnded(event, results: results) }
        let poller = Poller(
            configuration: configuration,
            reader: imds,
            sink: lifecycle, store: StateStore(directory: workspace.stateDir), clock: ContinuousClock(), logger: logger
        )
        DemoReport.header(simulator: simulator, workspace: workspace, keep: keep, timeline: timeline)

        try await simulator.play(Scenario(steps: [scenario.initial.step]))
        timeline.log(.imds, scenario.initial.step.note ?? "")
        let polling = Task { try await poller.run() }
        defer { polling.cancel() }
        var firstRound = poller.rounds.makeAsyncIterator()
        _ = await firstRound.next()
        timeline.log(.demo, "watcher started: first round of polls done (every \(DemoReport.seconds(interval)))")

        var missing = await awaitEvents(scenario.initial.expects, sink: sink, timeline: timeline)
        do {
            for step in scenario.steps {
                try await Task.sleep(for: pace)
                try await simulator.play(Scenario(steps: [step.step]))
                timeline.log(.imds, step.step.note ?? "")
                missing += await awaitEvents(step.expects, sink: sink, timeline: timeline)
            }
        } catch {
            polling.cancel()
            try? await polling.value
            await sink.allHooksFinished()
            throw error
        }
        polling.cancel()
        try? await polling.value
        await sink.allHooksFinished()

        let outcome = Outcome(missing: missing, counts: timeline.counts)
        DemoReport.summary(outcome, expected: scenario.expectedCounts, unexpected: await sink.unexpectedEvents, timeline: timeline)
        return outcome
    }

    /// Waits for each expected event (up to ``eventTimeout``) and then for its hooks.
    /// - Returns: The types that did not fire in time.
    private func awaitEvents(_ types: [EventType], sink: DemoHookSink, timeline: DemoTimeline) async -> [EventType] {
        var missing: [EventType] = []
        for type in types {
            guard let event = await Self.withTimeout(eventTimeout, { await sink.next(type) }) else {
                timeline.log(.demo, "MISSING: no \(type.rawValue) event within \(DemoReport.seconds(eventTimeout))")
                missing.append(type)
                continue
            }
            await sink.hooksFinished(for: event.id)
        }
        return missing
    }

    /// The production lifecycle actions, completing the scenario's termination hook against the simulator's
    /// Auto Scaling endpoint with the simulated instance profile's credentials (the user's AWS variables ignored).
    private func lifecycleActions(
        simulator: IMDSSimulator, imds: IMDSClient<ContinuousClock>, downstream: DemoHookSink, stateDir: String, logger: Logger
    ) -> LifecycleActions {
        let clock = ContinuousClock()
        let settings = Settings.AutoScaling(terminationHook: DemoScenario.lifecycleHook, heartbeatInterval: .seconds(1))
        let context = LifecycleContext(
            environment: [:], readMetadata: { path throws(IMDSError) in try await imds.text(path) },
            transport: CurlTransport(options: .init(proxy: .never)), endpoint: simulator.baseURL + "/autoscaling/",
            sleep: { try await clock.sleep(for: $0) }, nowMilliseconds: { SafeFile.wallClockMilliseconds() }, logger: logger
        )
        return LifecycleActions(
            settings: settings, dryRun: false, downstream: downstream, context: context, stateDirectory: stateDir,
            sleep: { try await clock.sleep(for: $0) }, logger: logger
        )
    }

    /// The variables the hooks get on top of the demo's environment: the fakes first on PATH, the example hooks'
    /// settings for the demo, the simulator for `imdswatch get`; settings the user may have exported are cleared so
    /// that the demo runs the same everywhere.
    private func hookEnvironment(workspace: DemoWorkspace, endpoint: String) -> [String: String?] {
        let path = ProcessInfo.processInfo.environment["PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/local/bin:/usr/bin:/bin"
        var environment: [String: String?] = [
            "PATH": workspace.binDir + ":" + path,
            "IMDSWATCH_DEMO_ENDPOINT": endpoint,
            "IMDSWATCH_STOP_SERVICES": "app.service worker.service",
            "IMDSWATCH_DRAIN_COMMAND": "systemctl stop app.service",
        ]
        for cleared in [
            "IMDSWATCH_ASG_NAME", "IMDSWATCH_BIN", "IMDSWATCH_DOCKER_MARGIN", "IMDSWATCH_DOCKER_MIN_TIME",
            "IMDSWATCH_DOCKER_MAX_TIME", "IMDSWATCH_DOCKER_FILTER", "IMDSWATCH_NOTIFY_WALL_TYPES",
            "IMDSWATCH_NOTIFY_JOURNAL", "IMDSWATCH_NOTIFY_TAG", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_DISABLED",
        ] {
            environment[cleared] = .some(nil)
        }
        return environment
    }

    /// The result of `operation`, or `nil` when it has not returned after `timeout` (it is then cancelled).
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async -> T?) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// This program's path, for the `imdswatch` fake that hands `get` to it.
    static func executablePath() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        if let path = Bundle.main.executablePath, path.hasPrefix("/") { return path }
        throw DemoError("cannot find the path of the imdswatch binary")
    }
}

/// The demo was stopped by a signal (it cleaned up first).
struct DemoInterruption: Error, Sendable, CustomStringConvertible {
    /// The signal's name.
    var signal: String

    var description: String { "interrupted by \(signal)" }
}
