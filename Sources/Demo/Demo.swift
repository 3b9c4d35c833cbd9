import Config
import Daemon
import Events
import Foundation
import HTTP
import Hooks
import Journal
import Lifecycle
import Logging
import ServiceLifecycle
import Simulator
import UnixSignals

/// `imdswatch demo`: the whole product on a machine with no EC2. A simulator on 127.0.0.1, the daemon assembled
/// in-process by the code `imdswatch run` uses (``Daemon``: poll loop, state store, hook dispatcher, lifecycle
/// actions) polling it, the shipped example hooks with fake commands first on their PATH, and a scripted scenario;
/// prints a timeline and a summary. The demo runs no hook itself: it observes the daemon's parts (an event sink, the
/// dispatcher's ended sequences, the log). Everything it writes is in one temporary directory, removed at the end
/// unless `keep` is set.
package struct Demo: Sendable {
    /// How the demo ended.
    package struct Outcome: Sendable {
        /// Event types that did not fire when the scenario expected them.
        var missing: [EventType]
        /// The counts: events by type, hooks run and failed, fake calls.
        var counts: DemoTimeline.Counts

        /// Every expected event fired and every hook exited 0.
        package var succeeded: Bool { missing.isEmpty && counts.hooksFailed == 0 }
    }

    /// Keep the temporary directory and print its path.
    package var keep: Bool
    /// The pause before each scenario step, so that a reader can follow (zero with `--fast`).
    package var pace: Duration
    /// How long a step may take to fire its events before the demo calls them missing.
    var eventTimeout: Duration = .seconds(5)
    /// The watcher's poll interval.
    var interval: Duration = .milliseconds(200)

    /// Creates a demo.
    /// - Parameters:
    ///   - keep: Keep the temporary directory and print its path.
    ///   - pace: The pause before each scenario step.
    package init(keep: Bool, pace: Duration) {
        self.keep = keep
        self.pace = pace
    }

    /// Runs the demo.
    /// - Returns: What happened; the caller turns a failure into exit status 1.
    /// - Throws: ``DemoError``, ``DemoInterruption`` or a system error when the demo cannot be set up (temp dir,
    ///   simulator, binary path) or a signal stopped it.
    package func run() async throws -> Outcome {
        let scenario = try DemoScenario.standard()
        let workspace = try DemoWorkspace.create(hooks: ExampleHooks.files, realBinary: try Self.executablePath())
        let timeline = DemoTimeline(callsFile: workspace.callsFile)
        let result = await runUntilSignalled { try await run(scenario, in: workspace, timeline: timeline) }
        finish(workspace, timeline: timeline)
        return try result.get()
    }

    /// Runs `demo` until it returns or SIGINT/SIGTERM arrives; then it is cancelled and its clean-up (simulator,
    /// watcher, hooks) awaited, so that the caller can still remove the temp dir.
    private func runUntilSignalled(_ demo: @escaping @Sendable () async throws -> Outcome) async -> Result<
        Outcome, any Error
    > {
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

    private func run(_ scenario: DemoScenario, in workspace: DemoWorkspace, timeline: DemoTimeline) async throws
        -> Outcome
    {
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

    /// Assembles the daemon exactly as `imdswatch run` does (``Daemon/assemble(observers:)``: its hook dispatcher,
    /// lifecycle actions, poll loop and systemd reporting) against the simulator, with the recorder added as an
    /// observer; runs its services, plays the scenario step by step (each step waits for its events and their
    /// hooks), stops them and prints the summary.
    private func watch(
        _ simulator: IMDSSimulator, play scenario: DemoScenario, in workspace: DemoWorkspace, timeline: DemoTimeline
    ) async throws -> Outcome {
        let logFile = try DemoLogFile(path: workspace.logFile)
        let hookPaths = Dictionary(ExampleHooks.files.map { ($0.name, $0.enabledPath) }) { first, _ in first }
        let logger = Logger(label: "imdswatch") {
            DemoLogHandler(label: $0, file: logFile, timeline: timeline, hookPaths: hookPaths)
        }
        let recorder = DemoEventRecorder(timeline: timeline)
        let (firstRound, roundSeen) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var observers = Daemon.Observers()
        observers.sinks = [recorder]
        observers.sequenceEnded = { event, _ in await recorder.sequenceEnded(event.id) }
        observers.roundCompleted = { roundSeen.yield() }
        // The user's AWS variables and a systemd NOTIFY_SOCKET stay out: the simulated instance profile signs the
        // calls to the simulator's Auto Scaling API, and nothing tells systemd anything.
        var host = Daemon.Host(environment: [:], awsProxy: .never, notifier: SystemdNotifier(environment: [:]))
        host.hookEnvironment = hookEnvironment(workspace: workspace, endpoint: simulator.baseURL)
        host.eventFileDirectory = workspace.eventsDir
        let daemon = Daemon(settings: settings(simulator: simulator, workspace: workspace), logger: logger, host: host)
        let assembly = try await daemon.assemble(observers: observers)
        let group = ServiceGroup(
            configuration: .init(services: assembly.services.map { .init(service: $0) }, logger: logger)
        )
        DemoReport.header(simulator: simulator, workspace: workspace, keep: keep, timeline: timeline)
        try await simulator.play(Scenario(steps: [scenario.initial.step]))
        timeline.log(.imds, scenario.initial.step.note ?? "")

        return try await withThrowingTaskGroup(of: Void.self) { services in
            services.addTask { try await group.run() }
            do {
                var rounds = firstRound.makeAsyncIterator()
                _ = await rounds.next()
                timeline.log(
                    .demo, "watcher started: first round of polls done (every \(DemoReport.seconds(interval)))")
                let missing = try await play(scenario, on: simulator, recorder: recorder, timeline: timeline)
                await assembly.hooks.waitUntilIdle()
                await group.triggerGracefulShutdown()
                try await services.waitForAll()
                let outcome = Outcome(missing: missing, counts: timeline.counts)
                DemoReport.summary(
                    outcome, expected: scenario.expectedCounts, unexpected: await recorder.unexpectedEvents,
                    timeline: timeline
                )
                return outcome
            } catch {
                services.cancelAll()
                try? await services.waitForAll()
                throw error
            }
        }
    }

    /// The settings `imdswatch run` would resolve for this demo: the simulator's endpoint, the workspace's hooks and
    /// state, every source polled every ``interval``, a 20 s hook timeout, and the scenario's termination lifecycle
    /// hook completed against the simulator's Auto Scaling API with heartbeats every second.
    private func settings(simulator: IMDSSimulator, workspace: DemoWorkspace) -> Settings {
        var settings = Settings()
        settings.endpoint = simulator.baseURL
        settings.hooksDir = workspace.hooksDir
        settings.stateDir = workspace.stateDir
        settings.interval = interval
        settings.sources = settings.sources.mapValues { source in
            var source = source
            source.interval = interval
            return source
        }
        settings.hookTimeout = .seconds(20)
        settings.asg = AutoScalingSettings(
            terminationHook: DemoScenario.lifecycleHook, heartbeatInterval: .seconds(1),
            endpoint: simulator.baseURL + "/autoscaling/"
        )
        return settings
    }

    /// Plays the scenario's steps after the initial state, pausing ``pace`` before each.
    /// - Returns: The expected event types that did not fire in time (the initial state's included).
    /// - Throws: `CancellationError` when interrupted, or a simulator error.
    private func play(
        _ scenario: DemoScenario, on simulator: IMDSSimulator, recorder: DemoEventRecorder, timeline: DemoTimeline
    ) async throws -> [EventType] {
        var missing = await awaitEvents(scenario.initial.expects, recorder: recorder, timeline: timeline)
        for step in scenario.steps {
            try await Task.sleep(for: pace)
            try await simulator.play(Scenario(steps: [step.step]))
            timeline.log(.imds, step.step.note ?? "")
            missing += await awaitEvents(step.expects, recorder: recorder, timeline: timeline)
        }
        try Task.checkCancellation()
        return missing
    }

    /// Waits for each expected event (up to ``eventTimeout``) and then for the daemon to end its hooks.
    /// - Returns: The types that did not fire in time.
    private func awaitEvents(_ types: [EventType], recorder: DemoEventRecorder, timeline: DemoTimeline) async
        -> [EventType]
    {
        var missing: [EventType] = []
        for type in types {
            guard let event = await Self.withTimeout(eventTimeout, { await recorder.next(type) }) else {
                timeline.log(.demo, "MISSING: no \(type.rawValue) event within \(DemoReport.seconds(eventTimeout))")
                missing.append(type)
                continue
            }
            await recorder.hooksFinished(for: event.id)
        }
        return missing
    }

    /// The variables the hooks get on top of the demo's environment: the fakes first on PATH, the example hooks'
    /// settings for the demo, the simulator for `imdswatch get`; settings the user may have exported are cleared so
    /// that the demo runs the same everywhere.
    private func hookEnvironment(workspace: DemoWorkspace, endpoint: String) -> [String: String?] {
        let path =
            ProcessInfo.processInfo.environment["PATH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/usr/local/bin:/usr/bin:/bin"
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
    static func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async -> T?) async
        -> T?
    {
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
package struct DemoInterruption: Error, Sendable, CustomStringConvertible {
    /// The signal's name.
    package var signal: String

    /// `interrupted by SIGINT`.
    package var description: String { "interrupted by \(signal)" }
}
