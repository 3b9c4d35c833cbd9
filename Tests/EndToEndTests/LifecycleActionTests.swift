import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// The daemon completes Auto Scaling lifecycle actions against the simulator's Auto Scaling endpoint: heartbeats
/// while the hooks run, one completion, signatures checked by botocore, failures, restarts, dry run.
@Suite(.serialized) struct LifecycleActionTests {
    /// A daemon with an `[asg]` table pointing at the simulator's endpoint, and a drain hook.
    struct Setup {
        let daemon: DaemonHarness
        let client: SimulatorClient
        let exitFile: String
        let envFile: String
    }

    /// The instance is in service (so the asg source polls at the test interval) before the test terminates it.
    static var inService: SimulatorState {
        var state = SimulatorState()
        state.asgState = "InService"
        return state
    }

    static func setUp(
        _ simulator: IMDSSimulator, asg: String, hook: String, extraArguments: [String] = [],
        logTarget: String = "stderr"
    ) throws -> Setup {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-asg-\(UUID().uuidString).toml"
        ).path
        try """
        [asg]
        termination_hook = "drain-hook"
        endpoint = "\(simulator.baseURL)/autoscaling/"
        \(asg)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(
            simulator: simulator, arguments: ["--config", config] + extraArguments, logTarget: logTarget)
        let exitFile = daemon.directory + "/hook-exit-ms"
        let envFile = daemon.directory + "/hook-env"
        try daemon.installHook(
            named: "asg-lifecycle-state.d/50-drain",
            script: """
                #!/bin/sh
                [ "$(cat "$IMDSWATCH_EVENT_FILE" | grep -c Terminated)" = 1 ] || exit 0
                echo "$$" > "\(daemon.directory)/hook-pid"
                echo "ASG=$IMDSWATCH_ASG_NAME HOOK=$IMDSWATCH_LIFECYCLE_HOOK" > "\(envFile)"
                \(hook)
                status=$?
                date +%s%3N > "\(exitFile)"
                exit $status
                """)
        return Setup(daemon: daemon, client: SimulatorClient(simulator), exitFile: exitFile, envFile: envFile)
    }

    /// The simulator's record of Auto Scaling calls.
    static func calls(_ client: SimulatorClient) async throws -> [JSONValue] {
        let response = try await client.control(.get, "/_sim/aws")
        guard case .array(let calls)? = try JSONDocument.parse(response.bodyText)["calls"] else { return [] }
        return calls
    }

    static func calls(_ client: SimulatorClient, action: String) async throws -> [JSONValue] {
        try await calls(client).filter { $0["action"]?.stringValue == action }
    }

    /// Whether a line containing `first` comes before one containing `then` (`nil` when either is missing).
    static func lineOrder(_ lines: [String], _ first: String, _ then: String) -> Bool? {
        guard let a = lines.firstIndex(where: { $0.contains(first) }),
            let b = lines.firstIndex(where: { $0.contains(then) })
        else { return nil }
        return a < b
    }

    /// Injects `fault` (a `/_sim/aws/faults` body), starts the daemon, sets the target lifecycle state to
    /// `Terminated` and waits for the completion's log line (nil when it did not come).
    static func terminateAndWait(_ simulator: IMDSSimulator, _ setup: Setup, fault: String? = nil) async throws -> (
        BackgroundProcess, String?
    ) {
        if let fault { _ = try await setup.client.control(.post, "/_sim/aws/faults", json: fault) }
        let process = try await setup.daemon.start()
        simulator.update { $0.asgState = "Terminated" }
        let done = await process.waitForLine(timeout: .seconds(30)) { $0.contains("lifecycle action completed") }
        return (process, done)
    }

    @Test func drainHookGetsHeartbeatsThenOneSignedCompletion() async throws {
        try await withSimulator(state: Self.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 1", hook: "sleep 3.5")
            defer { Task { await setup.daemon.tearDown() } }
            let (process, done) = try await Self.terminateAndWait(simulator, setup)
            #expect(done?.contains("CONTINUE") == true, "\(process.lines.suffix(20))")

            let all = try await Self.calls(setup.client)
            let heartbeats = all.filter { $0["action"] == "RecordLifecycleActionHeartbeat" }
            let completions = all.filter { $0["action"] == "CompleteLifecycleAction" }
            #expect(heartbeats.count >= 2)
            #expect(completions.count == 1)
            #expect(all.allSatisfy { $0["status"] == 200 })
            let parameters = completions.first?["parameters"]
            #expect(parameters?["AutoScalingGroupName"] == "imdswatch-simulator-asg")
            #expect(parameters?["LifecycleHookName"] == "drain-hook")
            #expect(parameters?["InstanceId"] == .string(simulator.state.instanceId))
            #expect(parameters?["LifecycleActionResult"] == "CONTINUE")
            // Ordering: every heartbeat before the completion, and the completion after the hook's exit.
            let completedAt =
                completions.first?["received_at_ms"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0
            #expect(
                heartbeats.allSatisfy {
                    if case .number(let n)? = $0["received_at_ms"] { n <= completedAt } else { false }
                })
            let exitText = try String(contentsOfFile: setup.exitFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let exitedAt = Double(exitText) ?? .infinity
            #expect(completedAt >= exitedAt)
            print(
                "lifecycle: CompleteLifecycleAction received \(Int(completedAt - exitedAt)) ms after the drain hook exited; \(heartbeats.count) heartbeats"
            )

            // The payload and the hook's environment name the group and the hook.
            let record = setup.daemon.records(of: .asgLifecycleState).last
            #expect(record?["data"]?["group"] == "imdswatch-simulator-asg")
            #expect(record?["data"]?["lifecycle_hook"] == "drain-hook")
            #expect(
                try String(contentsOfFile: setup.envFile, encoding: .utf8)
                    == "ASG=imdswatch-simulator-asg HOOK=drain-hook\n")

            // Every request: the instance profile's key and session token, and botocore computes the same signature.
            try await Self.expectSignedByInstanceProfile(all, client: setup.client)
        }
    }

    @Test func failingHookAbandonsAndAFirstThrottlingIsRetried() async throws {
        try await withSimulator(state: Self.inService) { simulator in
            let setup = try Self.setUp(
                simulator, asg: "heartbeat_interval = 0\non_hook_failure = \"abandon\"", hook: "exit 3")
            defer { Task { await setup.daemon.tearDown() } }
            let fault = #"{"action": "CompleteLifecycleAction", "code": "Throttling", "count": 1}"#
            let (process, done) = try await Self.terminateAndWait(simulator, setup, fault: fault)
            #expect(done?.contains("ABANDON") == true, "\(process.lines.suffix(20))")
            let completions = try await Self.calls(setup.client, action: "CompleteLifecycleAction")
            #expect(completions.map { $0["status"] } == [400, 200])
            #expect(completions.first?["error_code"] == "Throttling")
            #expect(completions.allSatisfy { $0["parameters"]?["LifecycleActionResult"] == "ABANDON" })
            #expect(
                try await Self.calls(setup.client, action: "RecordLifecycleActionHeartbeat").isEmpty,
                "heartbeat_interval = 0")
        }
    }

    @Test func sigkillDuringTheDrainThenRestartCompletesExactlyOnce() async throws {
        try await withSimulator(state: Self.inService) { simulator in
            // The drain takes 8 s the first time (it is killed in the middle) and ends at once when it runs again.
            let marker = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-drain-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: marker) }
            let setup = try Self.setUp(
                simulator, asg: "heartbeat_interval = 1",
                hook: "if [ -e \"\(marker)\" ]; then true; else touch \"\(marker)\"; sleep 8; fi"
            )
            defer { Task { await setup.daemon.tearDown() } }
            let first = try await setup.daemon.start()
            simulator.update { $0.asgState = "Terminated" }
            #expect(
                await first.waitForLine(timeout: .seconds(20)) { $0.contains("lifecycle action heartbeat sent") } != nil
            )
            // Killed in the middle of the drain: only once the hook has started its long sleep.
            #expect(await eventually(every: .milliseconds(10)) { FileManager.default.fileExists(atPath: marker) })
            first.signal(SIGKILL)
            _ = await first.wait()
            if let pid = Int32(
                (try? String(contentsOfFile: setup.daemon.directory + "/hook-pid", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
            {
                kill(pid, SIGKILL)
            }
            #expect(try await Self.calls(setup.client, action: "CompleteLifecycleAction").isEmpty)

            let second = try await setup.daemon.start()
            // Waits on the simulator's record of the completion, then reads the daemon's whole output once it stopped.
            let completed =
                try await waitForValue(every: .milliseconds(100)) { () async throws -> [JSONValue]? in
                    let completions = try await Self.calls(setup.client, action: "CompleteLifecycleAction")
                    return completions.isEmpty ? nil : completions
                } ?? []
            let result = completed.first?["parameters"]?["LifecycleActionResult"]?.stringValue
            #expect(result == "CONTINUE")
            _ = await second.stop()
            // The interrupted drain ran again (hooks are at least once), and the completion waited for it.
            let order = Self.lineOrder(
                second.lines, "run again after the restart", "lifecycle action completed with CONTINUE")
            #expect(order == true, "\(second.lines.suffix(20))")
            #expect(FileManager.default.fileExists(atPath: setup.exitFile), "the resumed drain ran to its end")

            // A third run finds the action completed: nothing is sent again.
            let third = try await setup.daemon.start()
            _ = await third.stop()
            let completions = try await Self.calls(setup.client, action: "CompleteLifecycleAction")
            #expect(completions.count == 1)
            #expect(completions.first?["status"] == 200)
        }
    }

    @Test func accessDeniedOnHeartbeatsNamesThePermissionOnceAndStillCompletes() async throws {
        try await withSimulator(state: Self.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 1", hook: "sleep 2.5")
            defer { Task { await setup.daemon.tearDown() } }
            let fault = #"{"action": "RecordLifecycleActionHeartbeat", "code": "AccessDenied", "count": null}"#
            let (process, done) = try await Self.terminateAndWait(simulator, setup, fault: fault)
            #expect(done != nil, "\(process.lines.suffix(20))")
            let mentions = process.lines.filter { $0.contains("autoscaling:RecordLifecycleActionHeartbeat") }
            #expect(mentions.count == 1, "\(mentions)")
            #expect(try await Self.calls(setup.client, action: "CompleteLifecycleAction").map { $0["status"] } == [200])
        }
    }

    @Test func completionIsInTheJournalWithItsResult() async throws {
        try JournalFixtures.ensureJournald()
        try await withSimulator(state: Self.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 0", hook: "true", logTarget: "journal")
            defer { Task { await setup.daemon.tearDown() } }
            let process = try await setup.daemon.start(waitForReady: false)
            simulator.update { $0.asgState = "Terminated" }
            let entries = try JournalFixtures.entries(
                matching: ["IMDSWATCH_LIFECYCLE_ACTION_RESULT=CONTINUE", "_PID=\(process.pid)"], timeout: .seconds(20))
            #expect(entries.count == 1)
            #expect(entries.first?["MESSAGE"]?.contains("lifecycle action completed with CONTINUE") == true)
            #expect(entries.first?["SYSLOG_IDENTIFIER"] == "imdswatch")
        }
    }

    @Test func dryRunSendsNothing() async throws {
        try await withSimulator(state: Self.inService) { simulator in
            let setup = try Self.setUp(
                simulator, asg: "heartbeat_interval = 1\ngroup = \"web-asg\"", hook: "true",
                extraArguments: ["--dry-run"])
            defer { Task { await setup.daemon.tearDown() } }
            let process = try await setup.daemon.start()
            simulator.update { $0.asgState = "Terminated" }
            let line = await process.waitForLine(timeout: .seconds(20)) {
                $0.contains("dry run: would send CompleteLifecycleAction")
            }
            #expect(line?.contains("AutoScalingGroupName=web-asg") == true)
            #expect(line?.contains("LifecycleHookName=drain-hook") == true)
            #expect(try await Self.calls(setup.client).isEmpty)
        }
    }

    /// Each recorded request carries the instance profile's access key and session token, and botocore, given the
    /// request as received (the headers it lists in SignedHeaders), computes the same Authorization.
    static func expectSignedByInstanceProfile(_ calls: [JSONValue], client: SimulatorClient) async throws {
        let token = try await client.token()
        let credentials = try JSONDocument.parse(
            try await client.get("meta-data/iam/security-credentials/imdswatch-instance-role", token: token).bodyText)
        var input: [JSONValue] = []
        var received: [String] = []
        for call in calls {
            let headers: [(String, String)] =
                (call["request"]?["headers"]).flatMap { if case .array(let h) = $0 { h } else { nil } }?
                .compactMap { pair in
                    guard case .array(let parts) = pair, parts.count == 2, let name = parts[0].stringValue,
                        let value = parts[1].stringValue
                    else { return nil }
                    return (name, value)
                } ?? []
            func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
            let authorization = header("authorization") ?? ""
            #expect(call["access_key_id"] == credentials["AccessKeyId"])
            #expect(authorization.contains("Credential=\(credentials["AccessKeyId"]?.stringValue ?? "?")/"))
            #expect(header("x-amz-security-token") == credentials["Token"]?.stringValue)
            let signed =
                authorization.components(separatedBy: "SignedHeaders=").last?.components(separatedBy: ",").first?.split(
                    separator: ";"
                ).map(String.init) ?? []
            #expect(signed.contains("x-amz-security-token") && signed.contains("host"))
            let region = authorization.components(separatedBy: "/")[safe: 2] ?? ""
            input.append([
                "method": call["request"]?["method"] ?? "POST",
                "url": .string("http://\(header("host") ?? "")\(call["request"]?["path"]?.stringValue ?? "/")"),
                "headers": .array(
                    headers.filter { signed.contains($0.0.lowercased()) }.map { [.string($0.0), .string($0.1)] }),
                "body": call["request"]?["body"] ?? "",
                "access_key": credentials["AccessKeyId"] ?? .null,
                "secret_key": credentials["SecretAccessKey"] ?? .null,
                "token": credentials["Token"] ?? .null, "region": .string(region), "service": "autoscaling",
                "amz_date": .string(header("x-amz-date") ?? ""),
            ])
            received.append(authorization)
        }
        let theirs = try await BotocoreSigner.authorizations(.array(input))
        #expect(theirs == received)
    }
}

/// Runs Tests/support/sigv4_botocore.py with `$TEST_PYTHON_IMDS_CLIENTS` (the venv scripts/test makes).
enum BotocoreSigner {
    static func authorizations(_ input: JSONValue) async throws -> [String] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("support/sigv4_botocore.py").path
        let outcome = try await ProcessRunner.run(
            InteropTests.python, [script], stdin: input.serialized(), timeout: .seconds(120))
        guard outcome.status == 0, case .array(let values) = try JSONDocument.parse(outcome.stdout) else {
            Issue.record("botocore signer failed: \(outcome.stderr)")
            return []
        }
        return values.compactMap(\.stringValue)
    }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
