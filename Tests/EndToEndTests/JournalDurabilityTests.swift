import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// The event journal closes the window issue 21 measured: an event is durable, with the state that says it fired, at
/// detection; the group lookup and every other network call run after that, in the lifecycle consumer.
@Suite(.serialized) struct JournalDurabilityTests {
    static let asgPath = "meta-data/autoscaling/target-lifecycle-state"

    /// A daemon with `[asg]` without `group` and a drain hook: its start-up group lookup fails at once (so the group
    /// is not cached from it), the lookups after it are held by the `held` fault (`"delay": SECONDS, ...`).
    static func startWithHeldLookup(
        _ simulator: IMDSSimulator, interval: String, held: String
    ) async throws -> (LifecycleActionTests.Setup, BackgroundProcess) {
        let setup = try LifecycleActionTests.setUp(
            simulator, asg: "heartbeat_interval = 0", hook: "true", extraArguments: ["--interval", interval]
        )
        _ = try await setup.client.control(
            .post, "/_sim/aws/faults",
            json: #"{"action": "DescribeAutoScalingInstances", "code": "AccessDenied", "count": 1}"#)
        _ = try await setup.client.control(
            .post, "/_sim/aws/faults", json: #"{"action": "DescribeAutoScalingInstances", "# + held + "}")
        let process = try await setup.daemon.start()
        #expect(
            await process.waitForLine(timeout: .seconds(30)) {
                $0.contains("AccessDenied") || $0.contains("DescribeAutoScalingInstances")
            } != nil)
        return (setup, process)
    }

    /// `[asg]` without `group`, the group lookup (`DescribeAutoScalingInstances`) held (30 s), spot polled every second
    /// with a notice appearing meanwhile, SIGKILL 2 s after `Terminated` was served: after a restart the drain hooks
    /// run and exactly one `CompleteLifecycleAction` is sent. Before the journal the spot poll saved the state that
    /// said `Terminated` fired while the event existed only in the lookup's stack: nothing ran, nothing completed.
    @Test func aTerminationWhoseGroupLookupIsHeldSurvivesASigkill() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            // The lookup after `Terminated` is held 30 s (the issue's 3 s, made long enough that a loaded machine cannot
            // stretch the test's own waits past it); the lookups after the restart answer at once.
            let (setup, first) = try await Self.startWithHeldLookup(
                simulator, interval: "1", held: #""delay": 30, "count": 1"#)
            defer { Task { await setup.daemon.tearDown() } }

            simulator.update { $0.asgState = "Terminated" }
            let before = simulator.statistics.requests(on: Self.asgPath)
            #expect(
                await eventually(timeout: .seconds(10), every: .milliseconds(5)) {
                    simulator.statistics.requests(on: Self.asgPath) > before
                })
            try await Task.sleep(for: .milliseconds(300))
            simulator.update {
                $0.spot = SpotNotice(
                    action: .terminate,
                    time: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 600).rounded(.down)))
            }
            #expect(
                await first.waitForLine(timeout: .seconds(20)) { $0.contains("detected spot-interruption") } != nil,
                "the spot notice was detected (and its state recorded) during the lookup")
            try await Task.sleep(for: .milliseconds(700))
            #expect(!FileManager.default.fileExists(atPath: setup.exitFile), "the drain had not run before the kill")
            first.signal(SIGKILL)
            await first.wait()

            let restarted = try await setup.daemon.start()
            let done = await restarted.waitForLine(timeout: .seconds(60)) { $0.contains("lifecycle action completed") }
            #expect(done?.contains("CONTINUE") == true, "\(restarted.lines.suffix(30))")
            #expect(FileManager.default.fileExists(atPath: setup.exitFile), "the drain hook ran after the restart")
            // Nothing else is on its way: the journal holds nothing more for the lifecycle consumer.
            try await Task.sleep(for: .seconds(1))
            let completions = try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction")
            #expect(completions.count == 1)
            #expect(completions.first?["status"] == 200)
        }
    }

    /// A SIGTERM while the lookup hangs leaves the event pending; the next start takes it up and completes once.
    @Test func aSigtermDuringTheLookupLeavesTheActionForTheNextStart() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let (setup, first) = try await Self.startWithHeldLookup(
                simulator, interval: "0.2", held: #""delay": 30, "count": 1"#)
            defer { Task { await setup.daemon.tearDown() } }
            simulator.update { $0.asgState = "Terminated" }
            #expect(
                await first.waitForLine(timeout: .seconds(30)) { $0.contains("detected asg-lifecycle-state") } != nil)
            try await Task.sleep(for: .milliseconds(500))
            await first.stop()
            #expect(
                first.lines.contains { $0.contains("during the Auto Scaling group lookup: the event stays pending") },
                "\(first.lines.suffix(20))")
            #expect(!FileManager.default.fileExists(atPath: setup.exitFile))
            #expect(try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction").isEmpty)

            let restarted = try await setup.daemon.start()
            let done = await restarted.waitForLine(timeout: .seconds(60)) { $0.contains("lifecycle action completed") }
            #expect(done != nil, "\(restarted.lines.suffix(30))")
            #expect(FileManager.default.fileExists(atPath: setup.exitFile))
            try await Task.sleep(for: .milliseconds(500))
            let completions = try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction")
            #expect(completions.count == 1, "\(completions) \(restarted.lines.suffix(30))")
        }
    }

    /// A state dir written by the release before the journal (state.json, a pending outbox entry, a pending hook
    /// sequence and a pending lifecycle action) is taken over: each is delivered once.
    @Test func aStateDirFromTheReleaseBeforeTheJournalIsTakenOver() async throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let setup = try LifecycleActionTests.setUp(
                simulator, asg: "group = \"imdswatch-simulator-asg\"\nheartbeat_interval = 0", hook: "true",
                extraArguments: ["--interval", "0.2", "--webhook", receiver.url()]
            )
            defer { Task { await setup.daemon.tearDown() } }
            let state = setup.daemon.stateDir
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            // state.json: in service, as the simulator serves it (so nothing new fires for asg).
            try
                #"{"version":1,"spot":{"current":null,"fired":[]},"rebalance":{"current":null,"fired":[]},"maintenance":{"events":[],"fired":[]},"asg":{"state":"InService","generation":1},"tags":{"tags":null,"generation":0}}"#
                .write(toFile: state + "/state.json", atomically: true, encoding: .utf8)
            // A webhook delivery the old release had not sent yet.
            try FileManager.default.createDirectory(atPath: state + "/outbox", withIntermediateDirectories: true)
            let body =
                #"{"schema":"imdswatch.event/v1","id":"0123456789abcdef0123456789abcdef","type":"rebalance-recommendation"}"#
            let endpointID = try Self.endpointID(url: receiver.url())
            try """
            {"version":1,"sequence":7,"endpoint_id":"\(endpointID)","event_id":"0123456789abcdef0123456789abcdef","event_type":"rebalance-recommendation","body":"\(Data(body.utf8).base64EncodedString())","content_type":"application/json","created_at_ms":\(now),"attempts":0,"next_attempt_ms":\(now)}
            """.write(toFile: state + "/outbox/0000000000000007-\(endpointID).json", atomically: true, encoding: .utf8)
            // A hook sequence for a maintenance event that had not started, and the drain of a termination whose
            // lifecycle action is pending.
            try FileManager.default.createDirectory(atPath: state + "/hooks-pending", withIntermediateDirectories: true)
            let instance =
                #"{"instance_id":"\#(simulator.state.instanceId)","instance_type":"m5.large","region":"eu-west-1","availability_zone":"eu-west-1b","account_id":"123456789012"}"#
            let maintenance =
                #"{"event":{"schema":"imdswatch.event/v1","id":"aaaa0000aaaa0000aaaa0000aaaa0000","type":"maintenance-scheduled","source":"meta-data/events/maintenance/scheduled","detected_at":"2026-11-29T12:00:00.000Z","instance":\#(instance),"data":{"event_id":"instance-event-1"},"previous":null},"detected_at_ms":\#(now),"done":[]}"#
            let termination =
                #"{"event":{"schema":"imdswatch.event/v1","id":"bbbb0000bbbb0000bbbb0000bbbb0000","type":"asg-lifecycle-state","source":"meta-data/autoscaling/target-lifecycle-state","detected_at":"2026-11-29T12:00:00.000Z","instance":\#(instance),"data":{"state":"Terminated","group":"imdswatch-simulator-asg","lifecycle_hook":"drain-hook"},"previous":{"state":"InService"}},"detected_at_ms":\#(now),"done":[]}"#
            for (id, text) in [
                ("aaaa0000aaaa0000aaaa0000aaaa0000", maintenance), ("bbbb0000bbbb0000bbbb0000bbbb0000", termination),
            ] {
                let name = id.utf8.map { String(format: "%02x", $0) }.joined() + ".json"
                try text.write(toFile: state + "/hooks-pending/" + name, atomically: true, encoding: .utf8)
            }
            try
                #"[{"eventID":"bbbb0000bbbb0000bbbb0000bbbb0000","target":{"group":"imdswatch-simulator-asg","hook":"drain-hook","instanceID":"\#(simulator.state.instanceId)"},"region":"\#(simulator.state.region)","phase":"hooks-running","recordedAt":\#(now)}]"#
                .write(toFile: state + "/lifecycle-actions.json", atomically: true, encoding: .utf8)

            let process = try await setup.daemon.start()
            let done = await process.waitForLine(timeout: .seconds(60)) { $0.contains("lifecycle action completed") }
            #expect(done != nil, "\(process.lines.suffix(30))")
            #expect(
                await eventually(timeout: .seconds(30)) {
                    (try? await receiver.requests(path: "/hook").contains { $0.status == 200 }) == true
                })
            #expect(await setup.daemon.waitForRecords(of: .maintenanceScheduled).count == 1)
            try await Task.sleep(for: .seconds(2))
            await process.stop()
            let restarted = try await setup.daemon.start()
            try await Task.sleep(for: .seconds(2))
            await restarted.stop()
            // Each exactly once, across a second restart too.
            #expect(setup.daemon.records(of: .maintenanceScheduled).count == 1)
            #expect(
                setup.daemon.records(of: .asgLifecycleState).filter { $0["id"] == "bbbb0000bbbb0000bbbb0000bbbb0000" }
                    .count == 1)
            #expect(try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction").count == 1)
            let posted = try await receiver.requests(path: "/hook").filter { $0.bodyText == body }
            #expect(posted.count == 1)
            #expect(FileManager.default.fileExists(atPath: state + "/events.journal"))
        }
    }

    /// Twenty unfinished hook sequences (hooks of 1 s each) left by a previous run are catching up when a spot notice
    /// appears: its hook starts before the catch-up ends (bench/journal-catch-up measures the latency).
    @Test func aSpotHookStartsWhileTwentyPendingSequencesCatchUp() async throws {
        try await withSimulator(state: SimulatorState()) { simulator in
            let daemon = try DaemonHarness(simulator: simulator, arguments: ["--interval", "1"])
            defer { Task { await daemon.tearDown() } }
            let marks = daemon.directory + "/marks"
            try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
            try daemon.installHook(
                named: "maintenance-scheduled.d/10-slow",
                script: "#!/bin/sh\ndate +%s%N >> \"\(marks)/start\"\nsleep 1\ndate +%s%N >> \"\(marks)/end\"\n")
            try daemon.installHook(
                named: "spot-interruption.d/10-stamp",
                script: "#!/bin/sh\ndate +%s%N > \"\(marks)/.spot\" && mv \"\(marks)/.spot\" \"\(marks)/spot\"\n")
            try FileManager.default.createDirectory(
                atPath: daemon.stateDir + "/hooks-pending", withIntermediateDirectories: true)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for index in 0..<20 {
                let id = String(format: "%032x", index)
                let record =
                    #"{"event":{"schema":"imdswatch.event/v1","id":"\#(id)","type":"maintenance-scheduled","source":"meta-data/events/maintenance/scheduled","detected_at":"2026-11-29T12:00:00.000Z","instance":{"instance_id":"i-0123456789abcdef0"},"data":{"event_id":"instance-event-\#(index)"},"previous":null},"detected_at_ms":\#(now),"done":[]}"#
                let name = id.utf8.map { String(format: "%02x", $0) }.joined() + ".json"
                try record.write(toFile: daemon.stateDir + "/hooks-pending/" + name, atomically: true, encoding: .utf8)
            }
            try await daemon.start()
            #expect(
                await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: marks + "/start") })
            simulator.update {
                $0.spot = SpotNotice(
                    action: .terminate,
                    time: Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down)))
            }
            #expect(await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: marks + "/spot") })
            #expect(
                await eventually(timeout: .seconds(60)) {
                    ((try? String(contentsOfFile: marks + "/end", encoding: .utf8)) ?? "").split(separator: "\n").count
                        >= 20
                })
            let spot = try #require(
                Int64(
                    try String(contentsOfFile: marks + "/spot", encoding: .utf8).trimmingCharacters(
                        in: .whitespacesAndNewlines)))
            let ends = try String(contentsOfFile: marks + "/end", encoding: .utf8).split(separator: "\n").compactMap {
                Int64($0)
            }
            #expect(ends.count == 20, "every pending sequence ran once")
            #expect(spot < (ends.max() ?? 0), "the spot hook started before the catch-up ended")
        }
    }

    /// The id the daemon gives a webhook endpoint (its outbox entries name it): 16 hex digits of the URL's SHA-256.
    static func endpointID(url: String) throws -> String {
        let outcome = try ProcessRunner.runBlocking(
            "/bin/sh", ["-c", "printf %s \"$0\" | sha256sum", url], timeout: .seconds(10))
        return String(outcome.stdout.prefix(16))
    }
}
