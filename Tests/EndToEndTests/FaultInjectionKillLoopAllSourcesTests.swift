import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// Issue 21's kill loop across every source at once: spot, rebalance, maintenance, Auto Scaling (with `[asg]` and
/// no `group`, so every termination needs the group lookup) and tags change together at `--interval 0.05`, two
/// webhook endpoints (one slow and failing) and slow, failing Auto Scaling answers, a CPU hog on both cores, and a
/// SIGKILL at a seeded random moment after each change.
///
/// Checked per seed: every event a daemon logged as detected reaches every hook of its sequence and both webhook
/// endpoints; the one termination is completed exactly once (never a second `CompleteLifecycleAction`); a hook runs
/// again only after a crash (docs/events.md: the hook that was running, or a sequence whose end was not yet
/// acknowledged), never twice within one daemon's life.
///
/// Scaled by `TEST_KILL_LOOP_ALL_SEEDS` (comma-separated, default one seed), `TEST_KILL_LOOP_ALL_CHANGES` (per seed,
/// default 20, about 50 s) and `TEST_KILL_LOOP_LOAD` (CPU hogs, default 2). Issue 21's run:
/// `TEST_KILL_LOOP_ALL_SEEDS=1,2,3,4 TEST_KILL_LOOP_ALL_CHANGES=100`.
extension FaultInjection {
    @Suite struct KillLoopAllSourcesTests {
        /// One hook run, as the hooks below append it to `runs` (one `write` of a short line: appends never interleave).
        struct HookRun: Hashable {
            var phase: String
            var hook: String
            var eventID: String
            /// The parent's pid as recorded, then the daemon's life it maps to.
            var incarnation: Int
        }

        struct NotReady: Error, CustomStringConvertible {
            var lines: ArraySlice<String>
            var description: String { "daemon not ready: " + lines.joined(separator: "\n") }
        }

        struct Figures {
            var detected = 0
            var byType: [String: Int] = [:]
            var kills = 0
            var rerunHooks = 0
            var webhookAttempts = 0
            var completions = 0
            var lost = 0
        }

        @Test func everySourceChangingTogetherSurvivesSigkillsAtRandomMomentsUnderLoad() async throws {
            let environment = ProcessInfo.processInfo.environment
            let seeds = (environment["TEST_KILL_LOOP_ALL_SEEDS"] ?? "20261207").split(separator: ",").compactMap {
                UInt64($0.trimmingCharacters(in: .whitespaces))
            }
            let changes = environment["TEST_KILL_LOOP_ALL_CHANGES"].flatMap { Int($0) } ?? 20
            let hogs = environment["TEST_KILL_LOOP_LOAD"].flatMap { Int($0) } ?? 2
            #expect(!seeds.isEmpty, "TEST_KILL_LOOP_ALL_SEEDS names no seed")
            let load = try CPUHog(processes: hogs)
            defer { load.stop() }
            for seed in seeds {
                let started = ContinuousClock.now
                let figures = try await Self.run(seed: seed, changes: changes)
                print(
                    "all-sources kill loop: seed \(seed), \(changes) changes, \(figures.kills) SIGKILLs under \(hogs) CPU hogs; \(figures.detected) events detected \(figures.byType.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")); \(figures.lost) of them lost (hooks or webhooks); \(figures.rerunHooks) hook runs repeated after a crash; \(figures.webhookAttempts) webhook requests; \(figures.completions) completion; \(ContinuousClock.now - started)"
                )
            }
        }

        static func run(seed: UInt64, changes: Int) async throws -> Figures {
            var random = SplitMix(seed: seed)
            var figures = Figures()
            let receiver = try WebhookReceiver.start()
            defer { receiver.stop() }
            // The first endpoint is slow and failing for a while (seeded), then answers at once; the second answers at once.
            var scripted: [WebhookReceiver.Response] = []
            for _ in 0..<(changes * 2) {
                switch random.next() % 10 {
                case 0, 1, 2: scripted.append(.init(status: 200, delaySeconds: 0.2))
                case 3, 4: scripted.append(.init(status: 503))
                case 5: scripted.append(.init(status: 500, delaySeconds: 0.5))
                case 6: scripted.append(.init(status: 200, delaySeconds: 2.5)) // past the endpoint's 2 s timeout
                default: scripted.append(.init(status: 200))
                }
            }
            try await receiver.script(scripted, path: "/slow")

            var initial = SimulatorState()
            initial.asgState = "InService"
            initial.tagsEnabled = true
            try await withSimulator(state: initial) { simulator in
                let client = SimulatorClient(simulator)
                // Slow and failing Auto Scaling answers: the group lookup and the completion are retried.
                for fault in [
                    #"{"action": "DescribeAutoScalingInstances", "delay": 0.5, "count": 4}"#,
                    #"{"action": "DescribeAutoScalingInstances", "code": "ServiceUnavailable", "count": 2}"#,
                    #"{"action": "CompleteLifecycleAction", "code": "Throttling", "count": 1}"#,
                    #"{"action": "CompleteLifecycleAction", "delay": 0.5, "count": 2}"#,
                ] {
                    _ = try await client.control(.post, "/_sim/aws/faults", json: fault)
                }
                let configPath = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "imdswatch-killloop-all-\(UUID().uuidString).toml"
                ).path
                try """
                [[webhook]]
                url = "\(receiver.url("/slow"))"
                timeout = 2
                connect_timeout = 1

                [[webhook]]
                url = "\(receiver.url("/fast"))"
                timeout = 2
                connect_timeout = 1

                [asg]
                termination_hook = "drain-hook"
                endpoint = "\(simulator.baseURL)/autoscaling/"
                heartbeat_interval = 0
                """.write(toFile: configPath, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(atPath: configPath) }
                let daemon = try DaemonHarness(
                    simulator: simulator, arguments: ["--interval", "0.05", "--config", configPath])
                let runs = daemon.directory + "/runs"
                // Two hooks for every event type: a sequence reached its end when the second one ended.
                for (name, pause) in [("40-first", "0.05"), ("60-last", "0")] {
                    try daemon.installHook(
                        named: name,
                        script: """
                            #!/bin/sh
                            cat > /dev/null
                            echo "start \(name) $IMDSWATCH_EVENT_ID $PPID" >> "\(runs)"
                            sleep \(pause)
                            echo "end \(name) $IMDSWATCH_EVENT_ID $PPID" >> "\(runs)"
                            """)
                }
                var detected: [String: String] = [:]
                // Each daemon's pid is its life: a hook records its parent's pid (a hook whose shell started only after
                // its daemon was killed records its new parent's, in no life: it may legitimately run again).
                var lives: [Int32: Int] = [:]
                func start() async throws {
                    let process = try await daemon.start(waitForReady: false)
                    lives[process.pid] = lives.count + 1
                    guard
                        await process.waitForLine(
                            timeout: .seconds(15), where: { $0.contains("first round of polls finished") }) != nil
                    else {
                        throw NotReady(lines: process.lines.suffix(20))
                    }
                }
                func collect() {
                    for (id, type) in Self.detected(daemon.process?.lines ?? []) { detected[id] = type }
                }
                do {
                    try await start()
                    let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down))
                    var maintenance: [MaintenanceEvent] = []
                    for index in 0..<changes {
                        let draw = random.next()
                        let last = index == changes - 1
                        if draw & 2 != 0 {
                            maintenance.append(
                                MaintenanceEvent(
                                    eventId: "instance-event-\(seed)-\(index)",
                                    notBefore: base.addingTimeInterval(Double(86_400 + index * 60)),
                                    notAfter: base.addingTimeInterval(Double(90_000 + index * 60))
                                ))
                            if maintenance.count > 3 { maintenance.removeFirst() }
                        }
                        let scheduled = maintenance
                        simulator.update { state in
                            // Spot every time; the others on seeded coin flips, all in one update.
                            state.spot = SpotNotice(
                                action: .terminate, time: base.addingTimeInterval(Double(changes - index)))
                            if draw & 1 != 0 { state.rebalance = base.addingTimeInterval(Double(-index - 1)) }
                            if draw & 2 != 0 { state.scheduledEvents = scheduled }
                            if draw & 4 != 0 || last {
                                // The last change is the one termination: completed exactly once.
                                state.asgState =
                                    last ? "Terminated" : (state.asgState == "InService" ? "Standby" : "InService")
                            }
                            if draw & 8 != 0 || draw & 7 == 0 {
                                state.tags = [
                                    InstanceTag("Name", "imdswatch-simulator"), InstanceTag("kill-loop", "\(index)"),
                                ]
                            }
                        }
                        try await Task.sleep(for: .milliseconds(Int(random.next() % 100)))
                        daemon.process?.signal(SIGKILL)
                        await daemon.process?.wait()
                        figures.kills += 1
                        collect()
                        try await start()
                    }

                    var hooked: [String: Set<String>] = [:]
                    var posted: [String: Set<String>] = [:]
                    var completed = false
                    // The slow endpoint sends one delivery at a time with backoff up to 60 s: its backlog can take minutes.
                    let deadline = ContinuousClock.now + .seconds(300)
                    while ContinuousClock.now < deadline {
                        collect()
                        hooked = Self.ended(Self.hookRuns(runs))
                        let requests = try await receiver.requests()
                        for path in ["/slow", "/fast"] {
                            posted[path] = Set(
                                requests.filter { $0.path == path && $0.status == 200 }.compactMap {
                                    try? JSONDocument.parse($0.bodyText)["id"]?.stringValue
                                })
                        }
                        completed =
                            daemon.process?.lines.contains { $0.contains("lifecycle action completed") } ?? false
                        let all = Set(detected.keys)
                        if completed, all.allSatisfy({ hooked[$0]?.count == 2 }),
                            all.isSubset(of: posted["/slow"] ?? []), all.isSubset(of: posted["/fast"] ?? [])
                        {
                            break
                        }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    // Anything sent twice would come now.
                    try await Task.sleep(for: .seconds(1))
                    collect()
                    let all = Set(detected.keys)
                    let types = Set(detected.values)
                    #expect(
                        types.isSuperset(
                            of: [
                                EventType.spotInterruption, .rebalanceRecommendation, .maintenanceScheduled,
                                .asgLifecycleState, .tagsChanged,
                            ].map(\.rawValue)),
                        "seed \(seed): every source fired (\(types.sorted()))")
                    let unhooked = all.filter { hooked[$0]?.count != 2 }
                    #expect(
                        unhooked.isEmpty,
                        "seed \(seed): \(unhooked.count) detected events never finished their hook sequence: \(unhooked.map { detected[$0] ?? "?" })"
                    )
                    for path in ["/slow", "/fast"] {
                        let missing = all.subtracting(posted[path] ?? [])
                        #expect(
                            missing.isEmpty,
                            "seed \(seed): \(missing.count) detected events never reached the webhook \(path): \(missing.map { detected[$0] ?? "?" })"
                        )
                    }

                    // A hook runs again only after a crash: never twice in one daemon's life.
                    let started = Self.hookRuns(runs).filter { $0.phase == "start" }
                    let inALife = started.compactMap { run -> HookRun? in
                        guard let life = lives[Int32(run.incarnation)] else { return nil }
                        var attributed = run
                        attributed.incarnation = life
                        return attributed
                    }
                    var perLife: [HookRun: Int] = [:]
                    for run in inALife { perLife[run, default: 0] += 1 }
                    let twice = perLife.filter { $0.value > 1 }
                    #expect(
                        twice.isEmpty,
                        "seed \(seed): hooks ran twice within one daemon's life: \(twice.keys.map { "\($0.hook) \($0.eventID) life \($0.incarnation)" })"
                    )
                    let perEvent = Dictionary(grouping: started) { "\($0.hook) \($0.eventID)" }
                    figures.rerunHooks = perEvent.values.reduce(0) { $0 + $1.count - 1 }

                    let calls = try await LifecycleActionTests.calls(client, action: "CompleteLifecycleAction")
                    let performed = calls.filter { $0["status"] == 200 }
                    let refused = calls.filter { $0["error_code"]?.stringValue == "ValidationError" }
                    #expect(
                        completed,
                        "seed \(seed): the termination was not completed: \(daemon.process?.lines.suffix(20) ?? [])")
                    #expect(
                        performed.count == 1, "seed \(seed): \(performed.count) CompleteLifecycleAction calls performed"
                    )
                    #expect(
                        refused.isEmpty,
                        "seed \(seed): a completion was sent again after one was performed (\(refused.count) refused)")
                    figures.detected = all.count
                    figures.lost =
                        all.filter {
                            hooked[$0]?.count != 2 || !(posted["/slow"] ?? []).contains($0)
                                || !(posted["/fast"] ?? []).contains($0)
                        }.count
                    figures.byType = Dictionary(grouping: detected.values) { $0 }.mapValues(\.count)
                    figures.webhookAttempts = try await receiver.requests().count
                    figures.completions = performed.count
                    await daemon.tearDown()
                } catch {
                    await daemon.tearDown()
                    throw error
                }
            }
            return figures
        }

        /// Event id -> type of every "detected" line.
        static func detected(_ lines: [String]) -> [String: String] {
            var found: [String: String] = [:]
            for line in lines where line.contains(" detected ") {
                let words = line.split(separator: " ")
                guard
                    let id = words.first(where: { $0.hasPrefix("imdswatch_event_id=") })?.dropFirst(
                        "imdswatch_event_id=".count),
                    let type = words.first(where: { $0.hasPrefix("imdswatch_event_type=") })?.dropFirst(
                        "imdswatch_event_type=".count)
                else { continue }
                found[String(id)] = String(type)
            }
            return found
        }

        static func hookRuns(_ path: String) -> [HookRun] {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                let words = line.split(separator: " ").map(String.init)
                guard words.count == 4, let life = Int(words[3]) else { return nil }
                return HookRun(phase: words[0], hook: words[1], eventID: words[2], incarnation: life)
            }
        }

        /// Event id -> the hooks that ended for it.
        static func ended(_ runs: [HookRun]) -> [String: Set<String>] {
            var ended: [String: Set<String>] = [:]
            for run in runs where run.phase == "end" { ended[run.eventID, default: []].insert(run.hook) }
            return ended
        }
    }
}

/// Busy-loop processes (`sh -c 'while :; do :; done'`), one per core to load; ``stop()`` kills exactly those.
final class CPUHog: @unchecked Sendable {
    private let processes: [Process]

    init(processes count: Int) throws {
        var processes: [Process] = []
        for _ in 0..<max(0, count) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "while :; do :; done"]
            try process.run()
            processes.append(process)
        }
        self.processes = processes
    }

    func stop() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
