import Events
import Foundation
import Hooks
import InMemoryLogging
import Logging
import Testing

/// The shipped `hooks.d/*.example` scripts, enabled in a temporary hooks directory, with fake `systemctl`, `aws`,
/// `docker`, `wall`, `logger` and `imdswatch` on PATH that record their arguments.
@Suite("Example hooks", .timeLimit(.minutes(1)))
struct ExampleHookTests {
    /// A hooks directory with one example enabled, and a directory of fakes recording to `calls`.
    struct Setup {
        let dir: HooksDirectory
        var calls: String { "\(dir.path)/calls" }
        var fakes: String { "\(dir.path)/fakes.d-not-hooks" }

        init(example: String) throws {
            dir = try HooksDirectory()
            let text = try String(contentsOfFile: "\(shippedHooksDirectory)/\(example).example", encoding: .utf8)
            try dir.write("hooks/\(example)", text, mode: 0o755)
            let record = "printf '%s\\n' \"$(basename \"$0\") $*\" >> \(calls)"
            for tool in ["systemctl", "aws", "wall", "logger", "systemd-cat"] {
                try dir.script("fakes.d-not-hooks/\(tool)", record)
            }
            try dir.script(
                "fakes.d-not-hooks/docker",
                """
                if [ "$1" = ps ]; then echo abc123; echo def456; exit 0; fi
                \(record)
                """)
            try dir.script(
                "fakes.d-not-hooks/imdswatch",
                """
                \(record)
                [ "$2" = "meta-data/tags/instance/aws:autoscaling:groupName" ] && echo web-asg
                """)
        }

        /// Runs the enabled hooks for `event` with `environment`; returns the results and the recorded calls.
        func run(_ event: Event, environment: [String: String] = [:], dryRun: Bool = false) async -> (
            [HookResult], [String]
        ) {
            let (logger, _) = memoryLogger()
            var env: [String: String?] = ["PATH": "\(fakes):/usr/bin:/bin"]
            for (key, value) in environment { env[key] = value }
            let hooks = HookCatalog(directory: "\(dir.path)/hooks").plan(for: event.type).hooks
            let results = await testRunner(logger: logger).runSequence(
                hooks, for: event, dryRun: dryRun, extraEnvironment: env)
            let calls = (try? String(contentsOfFile: calls, encoding: .utf8)) ?? ""
            return (results, calls.split(separator: "\n").map(String.init))
        }
    }

    @Test func stopServicesStopsTheConfiguredUnitsWithoutBlocking() async throws {
        let setup = try Setup(example: "spot-interruption.d/10-stop-services")
        defer { setup.dir.remove() }

        let (results, calls) = await setup.run(
            syntheticEvent(.spotInterruption), environment: ["IMDSWATCH_STOP_SERVICES": "app.service worker.service"]
        )

        #expect(results.map(\.termination) == [.exited(0)])
        #expect(calls == ["systemctl stop --no-block app.service", "systemctl stop --no-block worker.service"])
    }

    @Test func stopServicesInDryRunOnlyPrints() async throws {
        let setup = try Setup(example: "spot-interruption.d/10-stop-services")
        defer { setup.dir.remove() }

        let (results, calls) = await setup.run(syntheticEvent(.spotInterruption), dryRun: true)

        #expect(results.map(\.termination) == [.exited(0)])
        #expect(calls.isEmpty)
    }

    @Test func drainRunsTheDrainCommandAndNothingElse() async throws {
        let setup = try Setup(example: "asg-lifecycle-state.d/10-drain")
        defer { setup.dir.remove() }
        try setup.dir.script("fakes.d-not-hooks/drain-node", "printf '%s\\n' \"drain-node $*\" >> \(setup.calls)")

        let (results, calls) = await setup.run(
            syntheticEvent(.asgLifecycleState), environment: ["IMDSWATCH_DRAIN_COMMAND": "drain-node --force"]
        )

        #expect(results.map(\.termination) == [.exited(0)])
        // Only the drain: imdswatch completes the lifecycle action itself (no AWS CLI, no `imdswatch get`).
        #expect(calls == ["drain-node --force"])
    }

    @Test func drainPassesTheDrainCommandsFailureOn() async throws {
        let setup = try Setup(example: "asg-lifecycle-state.d/10-drain")
        defer { setup.dir.remove() }
        let (results, _) = await setup.run(
            syntheticEvent(.asgLifecycleState), environment: ["IMDSWATCH_DRAIN_COMMAND": "exit 4"])
        #expect(results.map(\.termination) == [.exited(4)])
    }

    @Test func drainDoesNothingForOtherStates() async throws {
        let setup = try Setup(example: "asg-lifecycle-state.d/10-drain")
        defer { setup.dir.remove() }
        var event = syntheticEvent(.asgLifecycleState)
        event.detail = .asgLifecycleState(
            LifecycleStateChange(
                state: "InService", previousState: nil, target: LifecycleTarget(group: "web-asg", hook: nil)
            ))

        let (results, calls) = await setup.run(event, environment: ["IMDSWATCH_DRAIN_COMMAND": "drain-node"])

        #expect(results.map(\.termination) == [.exited(0)])
        #expect(calls.isEmpty)
    }

    @Test func stopContainersGivesContainersTheTimeLeftBeforeTheDeadline() async throws {
        let setup = try Setup(example: "spot-interruption.d/20-stop-containers")
        defer { setup.dir.remove() }

        // The synthetic spot action is 120 s away; minus a 15 s margin.
        let (results, calls) = await setup.run(
            syntheticEvent(.spotInterruption), environment: ["IMDSWATCH_DOCKER_MAX_TIME": "300"])

        #expect(results.map(\.termination) == [.exited(0)])
        #expect(calls.count == 1)
        let call = try #require(calls.first)
        #expect(
            call == "docker stop --time 105 abc123 def456" || call == "docker stop --time 104 abc123 def456", "\(call)")
    }

    @Test func stopContainersBoundsTheTime() async throws {
        let setup = try Setup(example: "spot-interruption.d/20-stop-containers")
        defer { setup.dir.remove() }

        let (_, defaultMax) = await setup.run(syntheticEvent(.spotInterruption))
        #expect(defaultMax == ["docker stop --time 75 abc123 def456"])

        var late = syntheticEvent(.spotInterruption)
        late.detail = .spotInterruption(
            SpotInterruption(action: "terminate", time: EventTime(seconds: Int64(Date().timeIntervalSince1970) + 5)))
        try? FileManager.default.removeItem(atPath: setup.calls)
        let (_, minimum) = await setup.run(late)
        #expect(minimum == ["docker stop --time 2 abc123 def456"])
    }

    @Test func notifyWritesToTheJournalAndWallsForSpot() async throws {
        let setup = try Setup(example: "90-notify")
        defer { setup.dir.remove() }
        let event = syntheticEvent(.spotInterruption)

        let (results, calls) = await setup.run(event)

        #expect(results.map(\.termination) == [.exited(0)])
        let message = "imdswatch: spot-interruption on i-0123456789abcdef0, deadline \(event.deadline?.rfc3339 ?? "")"
        #expect(calls == ["logger -t imdswatch-hook -p daemon.warning -- \(message)", "wall \(message)"])
    }

    @Test func notifyDoesNotWallForTagChanges() async throws {
        let setup = try Setup(example: "90-notify")
        defer { setup.dir.remove() }

        let (_, calls) = await setup.run(syntheticEvent(.tagsChanged))

        #expect(
            calls == ["logger -t imdswatch-hook -p daemon.notice -- imdswatch: tags-changed on i-0123456789abcdef0"])
    }

    @Test func shippedExamplesAreAllSkippedUntilEnabled() {
        for plan in HookCatalog(directory: shippedHooksDirectory).plans() {
            #expect(plan.hooks.isEmpty)
            #expect(plan.skipped.allSatisfy { $0.reason == .ignoredName(".example") })
        }
    }
}
