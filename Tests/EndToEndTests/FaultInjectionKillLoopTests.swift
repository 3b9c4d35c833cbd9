import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// SIGKILL at random moments right after changes: every notice still reaches the hooks and the webhook (the hand-off
/// is durable before the state says "fired"), and a sequence cut short resumes after the restart.
extension FaultInjection {
    @Suite struct KillLoopTests {
        private static func writeConfig(url: String, extra: String = "") throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-killloop-\(UUID().uuidString).toml"
            ).path
            try "[[webhook]]\nurl = \"\(url)\"\ntimeout = 2\nconnect_timeout = 1\n\(extra)".write(
                toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// The spot `data.time` of every payload in `values` (hooks' records or webhook bodies).
        private static func spotTimes(_ values: [JSONValue]) -> Set<String> {
            Set(
                values.filter { $0["type"]?.stringValue == EventType.spotInterruption.rawValue }.compactMap {
                    $0["data"]?["time"]?.stringValue
                })
        }

        @Test func sigkillAtARandomMomentAfterEachOf100Changes() async throws {
            let environment = ProcessInfo.processInfo.environment
            let seed = environment["TEST_KILL_LOOP_SEED"].flatMap { UInt64($0) } ?? 20_261_130
            let changes = environment["TEST_KILL_LOOP_CHANGES"].flatMap { Int($0) } ?? 100
            var random = SplitMix(seed: seed)
            let receiver = try WebhookReceiver.start()
            defer { receiver.stop() }
            let configPath = try Self.writeConfig(url: receiver.url())
            defer { try? FileManager.default.removeItem(atPath: configPath) }

            try await withSimulator(state: SimulatorState()) { simulator in
                let daemon = try DaemonHarness(
                    simulator: simulator, arguments: ["--interval", "0.05", "--config", configPath])
                // The harness's recorder numbers files by counting them, which two hooks running at once (one left
                // behind by a killed daemon, one resumed) can race on: this one names each payload uniquely.
                let seen = daemon.directory + "/seen"
                try FileManager.default.createDirectory(atPath: seen, withIntermediateDirectories: true)
                try daemon.installHook(
                    named: "spot-interruption.d/50-seen",
                    script: "#!/bin/sh\ncat > \"\(seen)/.$$\" && mv \"\(seen)/.$$\" \"\(seen)/$(date +%s%N)-$$.json\"\n"
                )
                do {
                    try await daemon.start()
                    // Notices an hour ahead, each one second earlier than the last (a time moving backwards is a new
                    // occurrence, see docs/events.md), none past its deadline.
                    let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down))
                    var delays: [Int] = []
                    for index in 0..<changes {
                        simulator.update {
                            $0.spot = SpotNotice(
                                action: .terminate, time: base.addingTimeInterval(Double(changes - index)))
                        }
                        let delay = Int(random.next() % 100)
                        delays.append(delay)
                        try await Task.sleep(for: .milliseconds(delay))
                        daemon.process?.signal(SIGKILL)
                        await daemon.process?.wait()
                        try await daemon.start()
                    }
                    // Every notice reaches the hooks and the webhook (at least once).
                    let deadline = ContinuousClock.now + .seconds(60)
                    var hooked = Set<String>()
                    var posted = Set<String>()
                    while ContinuousClock.now < deadline {
                        let names = ((try? FileManager.default.contentsOfDirectory(atPath: seen)) ?? []).filter {
                            !$0.hasPrefix(".")
                        }
                        hooked = Self.spotTimes(
                            names.compactMap { name in
                                (try? String(contentsOfFile: seen + "/" + name, encoding: .utf8)).flatMap {
                                    try? JSONDocument.parse($0)
                                }
                            })
                        let bodies = try await receiver.requests(path: "/hook").filter { $0.status == 200 }
                        posted = Self.spotTimes(bodies.compactMap { try? JSONDocument.parse($0.bodyText) })
                        if hooked.count >= changes, posted.count >= changes { break }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    #expect(
                        hooked.count == changes, "seed \(seed): \(changes - hooked.count) notices never reached a hook")
                    #expect(
                        posted.count == changes,
                        "seed \(seed): \(changes - posted.count) notices never reached the webhook")
                    print(
                        "kill loop: seed \(seed), \(changes) SIGKILLs after 0-99 ms (mean \(delays.reduce(0, +) / max(1, delays.count)) ms); hooks saw \(hooked.count), webhook got \(posted.count)"
                    )
                    await daemon.tearDown()
                } catch {
                    await daemon.tearDown()
                    throw error
                }
            }
        }

        /// Event ids in the daemon's "detected" log lines.
        private static func detectedIDs(_ lines: [String]) -> Set<String> {
            Set(
                lines.filter { $0.contains(" detected ") }.compactMap { line in
                    line.split(separator: " ").first { $0.hasPrefix("imdswatch_event_id=") }.map {
                        String($0.dropFirst("imdswatch_event_id=".count))
                    }
                })
        }

        /// Spot and Auto Scaling changing together at `--interval 0.05` with `[asg]` and a webhook, SIGKILL 0-99 ms
        /// after each change (seeded): every event a daemon logged as detected reaches the hooks and the webhook, and
        /// the one termination is completed exactly once. `TEST_KILL_LOOP_SEED` and `TEST_KILL_LOOP_MIXED_CHANGES`
        /// (default 30) scale it; issue 21's run is 100 changes for each of 4 seeds.
        @Test func spotAndAutoScalingChangingTogetherSurviveSigkillsAtRandomMoments() async throws {
            let environment = ProcessInfo.processInfo.environment
            let seed = environment["TEST_KILL_LOOP_SEED"].flatMap { UInt64($0) } ?? 20_261_207
            let changes = environment["TEST_KILL_LOOP_MIXED_CHANGES"].flatMap { Int($0) } ?? 30
            var random = SplitMix(seed: seed)
            let receiver = try WebhookReceiver.start()
            defer { receiver.stop() }
            var state = SimulatorState()
            state.asgState = "InService"
            try await withSimulator(state: state) { simulator in
                let configPath = try Self.writeConfig(
                    url: receiver.url(),
                    extra: """
                        [asg]
                        termination_hook = "drain-hook"
                        endpoint = "\(simulator.baseURL)/autoscaling/"
                        heartbeat_interval = 0
                        """)
                defer { try? FileManager.default.removeItem(atPath: configPath) }
                let daemon = try DaemonHarness(
                    simulator: simulator, arguments: ["--interval", "0.05", "--config", configPath])
                let seen = daemon.directory + "/seen"
                try FileManager.default.createDirectory(atPath: seen, withIntermediateDirectories: true)
                try daemon.installHook(
                    named: "50-seen",
                    script: "#!/bin/sh\ncat > \"\(seen)/.$$\" && mv \"\(seen)/.$$\" \"\(seen)/$(date +%s%N)-$$.json\"\n"
                )
                do {
                    var detected = Set<String>()
                    try await daemon.start()
                    let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down))
                    for index in 0..<changes {
                        // The last change is the termination: it must be completed exactly once.
                        let asg = index == changes - 1 ? "Terminated" : (index % 2 == 0 ? "Standby" : "InService")
                        simulator.update {
                            $0.spot = SpotNotice(
                                action: .terminate, time: base.addingTimeInterval(Double(changes - index)))
                            $0.asgState = asg
                        }
                        try await Task.sleep(for: .milliseconds(Int(random.next() % 100)))
                        daemon.process?.signal(SIGKILL)
                        await daemon.process?.wait()
                        detected.formUnion(Self.detectedIDs(daemon.process?.lines ?? []))
                        try await daemon.start()
                    }
                    var hooked = Set<String>()
                    var posted = Set<String>()
                    let deadline = ContinuousClock.now + .seconds(90)
                    while ContinuousClock.now < deadline {
                        detected.formUnion(Self.detectedIDs(daemon.process?.lines ?? []))
                        let names = ((try? FileManager.default.contentsOfDirectory(atPath: seen)) ?? []).filter {
                            !$0.hasPrefix(".")
                        }
                        hooked = Set(
                            names.compactMap { name in
                                (try? String(contentsOfFile: seen + "/" + name, encoding: .utf8)).flatMap {
                                    try? JSONDocument.parse($0)
                                }?["id"]?.stringValue
                            })
                        posted = Set(
                            try await receiver.requests(path: "/hook").filter { $0.status == 200 }.compactMap {
                                try? JSONDocument.parse($0.bodyText)["id"]?.stringValue
                            })
                        let completed =
                            daemon.process?.lines.contains { $0.contains("lifecycle action completed") } ?? false
                        if detected.isSubset(of: hooked), detected.isSubset(of: posted), completed { break }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    try await Task.sleep(for: .seconds(1))
                    #expect(detected.count >= changes, "seed \(seed): only \(detected.count) events detected")
                    #expect(
                        detected.subtracting(hooked).isEmpty,
                        "seed \(seed): \(detected.subtracting(hooked).count) detected events never reached a hook")
                    #expect(
                        detected.subtracting(posted).isEmpty,
                        "seed \(seed): \(detected.subtracting(posted).count) detected events never reached the webhook")
                    let response = try await SimulatorClient(simulator).control(.get, "/_sim/aws")
                    let calls: [JSONValue] =
                        if case .array(let all)? = try JSONDocument.parse(response.bodyText)["calls"] { all } else {
                            []
                        }
                    let completions = calls.filter { $0["action"]?.stringValue == "CompleteLifecycleAction" }
                    #expect(completions.count == 1, "seed \(seed): \(completions.count) CompleteLifecycleAction calls")
                    print(
                        "mixed kill loop: seed \(seed), \(changes) SIGKILLs; \(detected.count) events detected, hooks saw \(hooked.intersection(detected).count), webhook got \(posted.intersection(detected).count), \(completions.count) completion"
                    )
                    await daemon.tearDown()
                } catch {
                    await daemon.tearDown()
                    throw error
                }
            }
        }

        @Test func aSigkillDuringHook1Of3RunsHooks2And3AfterTheRestart() async throws {
            try await withSimulator(state: SimulatorState()) { simulator in
                let daemon = try DaemonHarness(simulator: simulator, arguments: ["--interval", "0.05"])
                let marks = daemon.directory + "/marks"
                try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
                // Hook 1 hangs on its first run (it is killed with the daemon's SIGKILL in mind) and returns at once after.
                try daemon.installHook(
                    named: "spot-interruption.d/10-first",
                    script: """
                        #!/bin/sh
                        if [ -e "\(marks)/first" ]; then echo again >> "\(marks)/first"; exit 0; fi
                        echo $$ > "\(marks)/first"
                        sleep 30
                        """)
                try daemon.installHook(
                    named: "spot-interruption.d/20-second", script: "#!/bin/sh\necho ran >> \"\(marks)/second\"\n")
                try daemon.installHook(
                    named: "spot-interruption.d/30-third", script: "#!/bin/sh\necho ran >> \"\(marks)/third\"\n")
                do {
                    try await daemon.start()
                    simulator.update {
                        $0.spot = SpotNotice(
                            action: .terminate,
                            time: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 600).rounded(.down)))
                    }
                    #expect(
                        await eventually(timeout: .seconds(60)) {
                            FileManager.default.fileExists(atPath: marks + "/first")
                        })
                    try await Task.sleep(for: .milliseconds(100))
                    daemon.process?.signal(SIGKILL)
                    await daemon.process?.wait()
                    if let text = try? String(contentsOfFile: marks + "/first", encoding: .utf8),
                        let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                    {
                        kill(pid, SIGKILL) // the first run's shell, left behind by the killed daemon
                    }
                    #expect(
                        !FileManager.default.fileExists(atPath: marks + "/second"), "hook 2 had not run before the kill"
                    )

                    let restarted = try await daemon.start()
                    _ = await eventually(timeout: .seconds(60)) {
                        FileManager.default.fileExists(atPath: marks + "/third")
                    }
                    #expect((try? String(contentsOfFile: marks + "/second", encoding: .utf8)) == "ran\n")
                    #expect((try? String(contentsOfFile: marks + "/third", encoding: .utf8)) == "ran\n")
                    // Hook 1 was running when the daemon died: it runs again (at least once).
                    #expect(
                        (try? String(contentsOfFile: marks + "/first", encoding: .utf8))?.hasSuffix("again\n") == true)
                    #expect(
                        restarted.lines.contains { $0.contains("resuming the hooks of this event after a restart") })
                    await daemon.tearDown()
                } catch {
                    await daemon.tearDown()
                    throw error
                }
            }
        }
    }
}
