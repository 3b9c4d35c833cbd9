import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// The real binary against the simulator's Auto Scaling endpoint when the API or the credentials misbehave: an
/// answer without an error document, expired tokens during a stop, a hanging group lookup during a stop, a wrong
/// secret, a damaged actions file, and endpoints that carry credentials or would send them in clear text.
@Suite(.serialized) struct LifecycleOutageTests {
    typealias Setup = LifecycleActionTests.Setup

    static func setUp(_ simulator: IMDSSimulator, asg: String) throws -> Setup {
        try LifecycleActionTests.setUp(simulator, asg: asg, hook: "true")
    }

    /// A daemon with no `[asg] group` on an instance without tags: the group comes from DescribeAutoScalingInstances,
    /// which answers `code` (a fault) to every call.
    static func withoutGroup(_ simulator: IMDSSimulator, lookupAnswers code: String) async throws -> (
        DaemonHarness, SimulatorClient
    ) {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-asg-\(UUID().uuidString).toml"
        ).path
        try
            "[asg]\ntermination_hook = \"drain-hook\"\nheartbeat_interval = 0\nendpoint = \"\(simulator.baseURL)/autoscaling/\"\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(simulator: simulator, arguments: ["--config", config])
        let client = SimulatorClient(simulator)
        _ = try await client.control(
            .post, "/_sim/aws/faults",
            json: #"{"action": "DescribeAutoScalingInstances", "code": "\#(code)", "count": null}"#)
        return (daemon, client)
    }

    static func fault(_ setup: Setup, _ action: String, _ code: String, count: Int? = nil) async throws {
        let body = #"{"action": "\#(action)", "code": "\#(code)", "count": \#(count.map(String.init) ?? "null")}"#
        _ = try await setup.client.control(.post, "/_sim/aws/faults", json: body)
    }

    @Test func aServerErrorWithoutADocumentIsSaidOnceAndRetriedToConfirmation() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 0")
            defer { Task { await setup.daemon.tearDown() } }
            try await Self.fault(setup, "CompleteLifecycleAction", "InternalFailureWithoutDocument", count: 5)
            let process = try await setup.daemon.start()
            simulator.update { $0.asgState = "Terminated" }
            let done = await process.waitForLine(timeout: .seconds(60)) { $0.contains("lifecycle action completed") }
            #expect(done != nil, "\(process.lines.suffix(20))")
            #expect(process.lines.contains { $0.contains("CompleteLifecycleAction: serverError, retrying") })
            #expect(!process.lines.contains { $0.contains("HTTP 500: HTTP 500") })
            let statuses = try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction").map {
                $0["status"]
            }
            #expect(statuses == [500, 500, 500, 500, 500, 200])
        }
    }

    @Test func aStopWhileTheCompletionRetriesExpiredTokenDoesNotWaitAndTheNextStartCompletes() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 1\ngroup = \"imdswatch-simulator-asg\"")
            defer { Task { await setup.daemon.tearDown() } }
            try await Self.fault(setup, "*", "ExpiredToken")
            let process = try await setup.daemon.start()
            simulator.update { $0.asgState = "Terminated" }
            let retrying = await process.waitForLine(timeout: .seconds(30)) {
                $0.contains("CompleteLifecycleAction: ExpiredToken, retrying")
            }
            #expect(retrying != nil, "\(process.lines.suffix(20))")
            process.signal(SIGTERM)
            // A hang guard, not a speed bound: the stop used to wait 90 s for the hook sequence held by the retries.
            let status = await process.wait(timeout: .seconds(60))
            #expect(status == 0, "\(process.lines.suffix(20))")
            #expect(!process.lines.contains { $0.contains("hooks still running after") })
            #expect(process.lines.contains { $0.contains("left pending for the next start") })
            let file = try String(contentsOfFile: setup.daemon.stateDir + "/lifecycle-actions.json", encoding: .utf8)
            #expect(file.contains("\"phase\":\"hooks-done\""))

            let cleared = try await ProcessRunner.run(
                "/usr/bin/curl", ["-sf", "-X", "DELETE", simulator.baseURL + "/_sim/aws/faults"])
            #expect(cleared.status == 0)
            let second = try await setup.daemon.start()
            #expect(
                await second.waitForLine(timeout: .seconds(30)) {
                    $0.contains("lifecycle action completed with CONTINUE")
                } != nil)
            _ = await second.stop()
            let statuses = try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction").map {
                $0["status"]
            }
            #expect(statuses.filter { $0 == 200 }.count == 1)
        }
    }

    @Test func aStopWhileTheGroupLookupHangsEndsTheLookup() async throws {
        var state = LifecycleActionTests.inService
        state.tagsEnabled = false
        try await withSimulator(state: state) { simulator in
            // No group configured and no tag: the start-up lookup calls DescribeAutoScalingInstances, which never answers.
            let (daemon, client) = try await Self.withoutGroup(simulator, lookupAnswers: "Hang")
            defer { Task { await daemon.tearDown() } }
            let process = try await daemon.start()
            #expect(
                await eventually(timeout: .seconds(20), every: .milliseconds(50)) {
                    (try? await LifecycleActionTests.calls(client, action: "DescribeAutoScalingInstances").isEmpty)
                        == false
                })
            process.signal(SIGTERM)
            // A hang guard: the stop used to wait for the lookup's five 10 s timeouts.
            let status = await process.wait(timeout: .seconds(40))
            #expect(status == 0, "\(process.lines.suffix(20))")
            #expect(process.lines.contains { $0.contains("group lookup was cancelled") }, "\(process.lines.suffix(20))")
        }
    }

    @Test func aRejectedSignatureIsNamedAsACredentialsProblem() async throws {
        var state = LifecycleActionTests.inService
        state.tagsEnabled = false
        try await withSimulator(state: state) { simulator in
            let (daemon, _) = try await Self.withoutGroup(simulator, lookupAnswers: "SignatureDoesNotMatch")
            defer { Task { await daemon.tearDown() } }
            let process = try await daemon.start()
            simulator.update { $0.asgState = "Terminated" }
            let line = await process.waitForLine(timeout: .seconds(30)) {
                $0.contains("cannot complete lifecycle hook drain-hook")
            }
            #expect(line?.contains("credentials") == true, "\(process.lines.suffix(20))")
            #expect(!process.lines.contains { $0.contains("set [asg] group") })
        }
    }

    /// `[asg]` without `group` on an instance without tags: the start-up lookup is refused once (so no group is
    /// cached), then `DescribeAutoScalingInstances` answers 500 until the event's lookup has used its 5 attempts
    /// (about 6 s with the backoff); the drain runs meanwhile with the group unknown.
    static func startWithLookupOutage(_ simulator: IMDSSimulator) async throws -> (Setup, BackgroundProcess) {
        let setup = try LifecycleActionTests.setUp(
            simulator, asg: "heartbeat_interval = 0", hook: "true", extraArguments: ["--interval", "0.2"])
        try await Self.fault(setup, "DescribeAutoScalingInstances", "AccessDenied", count: 1)
        try await Self.fault(setup, "DescribeAutoScalingInstances", "InternalFailure")
        let process = try await setup.daemon.start()
        #expect(
            await process.waitForLine(timeout: .seconds(30)) { $0.contains("AccessDenied") } != nil,
            "\(process.lines.suffix(20))")
        simulator.update { $0.asgState = "Terminated" }
        let gaveUp = await process.waitForLine(timeout: .seconds(60)) {
            $0.contains("cannot find the Auto Scaling group") && $0.contains("500")
        }
        #expect(gaveUp != nil, "\(process.lines.suffix(20))")
        #expect(
            await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: setup.exitFile) },
            "the drain ran")
        return (setup, process)
    }

    /// The one completion sent: after the drain hook exited, naming the group the lookup found at last.
    static func expectOneCompletionAfterTheDrain(_ setup: Setup, instanceID: String) async throws {
        let completions = try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction")
        #expect(completions.count == 1, "\(completions)")
        #expect(completions.first?["status"] == 200)
        #expect(completions.first?["parameters"]?["AutoScalingGroupName"] == "imdswatch-simulator-asg")
        #expect(completions.first?["parameters"]?["InstanceId"] == .string(instanceID))
        let completedAt =
            completions.first?["received_at_ms"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? 0
        let exitText = try String(contentsOfFile: setup.exitFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(completedAt >= Double(exitText) ?? .infinity, "the completion came after the drain hook ended")
    }

    /// The group lookup failing after its attempts used to leave the action unrecorded: the hooks ran and no
    /// `CompleteLifecycleAction` was ever sent. Now the lookup is retried with the completion, until the hook's
    /// timeout: once the API recovers, exactly one completion goes out.
    @Test func aGroupLookupOutageLongerThanItsAttemptsIsRetriedWithTheCompletion() async throws {
        var state = LifecycleActionTests.inService
        state.tagsEnabled = false
        try await withSimulator(state: state) { simulator in
            let (setup, process) = try await Self.startWithLookupOutage(simulator)
            defer { Task { await setup.daemon.tearDown() } }
            let cleared = try await ProcessRunner.run(
                "/usr/bin/curl", ["-sf", "-X", "DELETE", simulator.baseURL + "/_sim/aws/faults"])
            #expect(cleared.status == 0)
            let done = await process.waitForLine(timeout: .seconds(60)) {
                $0.contains("lifecycle action completed with CONTINUE")
            }
            #expect(done != nil, "\(process.lines.suffix(30))")
            try await Task.sleep(for: .milliseconds(500))
            _ = await process.stop()
            try await Self.expectOneCompletionAfterTheDrain(setup, instanceID: simulator.state.instanceId)
        }
    }

    /// The same outage, with a SIGTERM while the completion's lookup is still retrying: the action stays pending
    /// in the state directory, and the next start (the API recovered) completes it exactly once.
    @Test func aGroupLookupOutageAcrossARestartCompletesOnceAtTheNextStart() async throws {
        var state = LifecycleActionTests.inService
        state.tagsEnabled = false
        try await withSimulator(state: state) { simulator in
            let (setup, first) = try await Self.startWithLookupOutage(simulator)
            defer { Task { await setup.daemon.tearDown() } }
            try await Task.sleep(for: .seconds(1))
            let status = await first.stop()
            #expect(status == 0, "\(first.lines.suffix(20))")
            #expect(
                first.lines.contains { $0.contains("left pending for the next start") }, "\(first.lines.suffix(20))")
            #expect(try await LifecycleActionTests.calls(setup.client, action: "CompleteLifecycleAction").isEmpty)
            let file = try String(contentsOfFile: setup.daemon.stateDir + "/lifecycle-actions.json", encoding: .utf8)
            #expect(file.contains("\"phase\":\"hooks-done\""), "\(file)")

            let cleared = try await ProcessRunner.run(
                "/usr/bin/curl", ["-sf", "-X", "DELETE", simulator.baseURL + "/_sim/aws/faults"])
            #expect(cleared.status == 0)
            let second = try await setup.daemon.start()
            let done = await second.waitForLine(timeout: .seconds(60)) {
                $0.contains("lifecycle action completed with CONTINUE")
            }
            #expect(done != nil, "\(second.lines.suffix(30))")
            try await Task.sleep(for: .milliseconds(500))
            _ = await second.stop()
            try await Self.expectOneCompletionAfterTheDrain(setup, instanceID: simulator.state.instanceId)
        }
    }

    /// A lifecycle actions file cut in its second entry; the first is a pending action of this instance.
    static func truncatedActionsFile(instanceID: String) -> String {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let entry =
            #"{"eventID":"asg-old","phase":"hooks-done","recordedAt":\#(now),"region":"us-east-1","result":"CONTINUE","target":{"group":"imdswatch-simulator-asg","hook":"drain-hook","instanceID":"\#(instanceID)"}}"#
        return "[" + entry + #",{"eventID":"asg-cut","pha"#
    }

    @Test func aDamagedActionsFileIsMovedAsideInOneLine() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let setup = try Self.setUp(simulator, asg: "heartbeat_interval = 0\ngroup = \"imdswatch-simulator-asg\"")
            defer { Task { await setup.daemon.tearDown() } }
            let instanceID = simulator.state.instanceId
            let file = Self.truncatedActionsFile(instanceID: instanceID)
            try file.write(
                toFile: setup.daemon.stateDir + "/lifecycle-actions.json", atomically: false, encoding: .utf8)
            let process = try await setup.daemon.start()
            let completed = await process.waitForLine(timeout: .seconds(30)) {
                $0.contains("lifecycle action completed with CONTINUE")
            }
            #expect(completed != nil)
            _ = await process.stop()
            let lines = process.lines
            let mentions = lines.filter { $0.contains("lifecycle-actions.json") }
            #expect(mentions.count == 1, "\(mentions)")
            let movedLine = mentions.first ?? ""
            #expect(movedLine.contains("moved it aside"))
            let dumps = lines.filter { $0.contains("DecodingError") }
            #expect(dumps.isEmpty)
            let names = try FileManager.default.contentsOfDirectory(atPath: setup.daemon.stateDir)
            let moved = names.filter { $0.hasPrefix("lifecycle-actions.json.corrupt-") }
            #expect(moved.count == 1)
        }
    }

    @Test func endpointsWithCredentialsArePrintedRedactedEverywhere() async throws {
        try await withSimulator(state: LifecycleActionTests.inService) { simulator in
            let secretURL =
                simulator.baseURL.replacingOccurrences(of: "http://", with: "http://user:hunter2@")
                + "/autoscaling/?token=s3cret"
            let environment = ["AWS_ENDPOINT_URL_AUTO_SCALING": secretURL, "AWS_REGION": "us-east-1"]
            let config = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-asg-\(UUID().uuidString).toml"
            ).path
            try "[asg]\ntermination_hook = \"drain-hook\"\ngroup = \"g\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let check = try await ProcessRunner.imdswatch(["config", "check", config], environment: environment)
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdout.contains("asg region: us-east-1") && check.stdout.contains("***@"))
            let status = try await ProcessRunner.imdswatch(
                [
                    "status", "--endpoint", simulator.baseURL, "--config", config, "--state-dir",
                    NSTemporaryDirectory() + "imdswatch-status-\(UUID().uuidString)",
                ], environment: environment)
            #expect(status.stdout.contains("endpoint http://***@"), "\(status.stdout)\(status.stderr)")
            let daemon = try DaemonHarness(
                simulator: simulator, arguments: ["--config", config], environment: environment)
            defer { Task { await daemon.tearDown() } }
            let process = try await daemon.start()
            #expect(await process.waitForLine(timeout: .seconds(20)) { $0.contains("asg: region") } != nil)
            _ = await process.stop()
            // A bad file value: the config error does not show it either.
            try "[asg]\ntermination_hook = \"drain-hook\"\nendpoint = \"ftp://user:hunter2@x/?token=s3cret\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let bad = try await ProcessRunner.imdswatch(["config", "check", config])
            #expect(bad.status != 0 && bad.stderr.contains("asg.endpoint"))
            for output in [
                check.stdout + check.stderr, status.stdout + status.stderr, process.lines.joined(separator: "\n"),
                bad.stdout + bad.stderr,
            ] {
                #expect(!output.contains("hunter2") && !output.contains("s3cret"), "\(output)")
            }
        }
    }

    @Test func plainHTTPToAHostThatIsNotLoopbackIsRefusedByConfigCheckAndRun() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-asg-\(UUID().uuidString).toml"
        ).path
        defer { try? FileManager.default.removeItem(atPath: config) }
        try "[asg]\ntermination_hook = \"drain-hook\"\nendpoint = \"http://10.11.12.13/\"\n".write(
            toFile: config, atomically: true, encoding: .utf8)
        let check = try await ProcessRunner.imdswatch(["config", "check", config])
        #expect(check.status != 0)
        let lines = check.stderr.split(separator: "\n").filter { $0.contains("asg.endpoint") }
        #expect(lines.count == 1 && lines.first?.contains("clear text") == true, "\(check.stderr)")
        let run = try await ProcessRunner.imdswatch([
            "run", "--config", config, "--endpoint", "http://127.0.0.1:9", "--state-dir",
            NSTemporaryDirectory() + "imdswatch-run-\(UUID().uuidString)",
        ])
        #expect(run.status != 0 && run.stderr.contains("asg.endpoint"), "\(run.stderr)")
        // The environment's endpoint, when it would be used: refused the same way, naming the variable.
        try "[asg]\ntermination_hook = \"drain-hook\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let fromEnvironment = try await ProcessRunner.imdswatch(
            ["config", "check", config], environment: ["AWS_ENDPOINT_URL": "http://10.11.12.13/"])
        #expect(
            fromEnvironment.status != 0 && fromEnvironment.stderr.contains("AWS_ENDPOINT_URL"),
            "\(fromEnvironment.stderr)")
    }
}
