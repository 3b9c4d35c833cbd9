import AWS
import Config
import Events
import Foundation
import HTTP
import Hooks
import IMDS
import IMDSWatchTestKit
import Lifecycle
import Logging
import Synchronization
import Testing

/// The completion of a lifecycle action through an API outage, on a manual clock: retried with the client's backoff
/// until confirmed, gone, or the hook's timeout has certainly passed; heartbeats meanwhile; never recorded as
/// completed unless confirmed; resumed after a restart; never holding the hook sequence or a stop.
@Suite("Lifecycle completion", .serialized, .timeLimit(.minutes(1)))
struct LifecycleCompletionTests {
    /// Log lines kept in memory.
    final class LogLines: Sendable {
        private let lines = Mutex<[LogLine]>([])
        func append(_ level: Logger.Level, _ text: String) {
            lines.withLock { $0.append(LogLine(level: level, text: text)) }
        }
        var all: [LogLine] { lines.withLock { $0 } }
        var logger: Logger {
            var logger = Logger(label: "test") { _ in RecordingHandler(lines: self) }
            logger.logLevel = .debug
            return logger
        }
    }

    struct LogLine: Sendable {
        var level: Logger.Level
        var text: String
    }

    struct RecordingHandler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.append(event.level, event.message.description) }
    }

    /// Answers per action: a closure of the action and how many times it was asked so far (1 for the first).
    typealias Script = @Sendable (_ action: String, _ attempt: Int) -> HTTPResponse

    final class Fixture: Sendable {
        let clock = ManualClock()
        let transport: FakeTransport
        let log = LogLines()
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-completion-\(UUID().uuidString)"
        ).path

        init(script: @escaping Script) {
            let counts = Locked<[String: Int]>([:])
            transport = FakeTransport { request in
                let form = String(decoding: request.body ?? [], as: UTF8.self)
                let action = form.split(separator: "&").first?.split(separator: "=").last.map(String.init) ?? ""
                counts.update { $0[action, default: 0] += 1 }
                let attempt = counts.value[action] ?? 1
                return .success(script(action, attempt))
            }
        }

        func actions(_ settings: AutoScalingSettings, environment: [String: String] = LifecycleCompletionTests.keys)
            -> LifecycleActions
        {
            let clock = clock
            let context = LifecycleContext(
                environment: environment,
                metadata: ScriptedMetadata.absent, transport: transport, endpoint: "https://autoscaling.test/",
                sleep: { try await clock.sleep(for: $0) }, jitter: { $0 }, wallClock: clock.wallClock,
                logger: log.logger
            )
            let actions = LifecycleActions(
                settings: settings, dryRun: false, downstream: RecordingSink(), context: context,
                stateDirectory: stateDir,
                sleep: { try await clock.sleep(for: $0) }, logger: log.logger
            )
            services.start(actions)
            return actions
        }

        func sent(_ action: String) -> Int {
            transport.requests.filter { String(decoding: $0.body ?? [], as: UTF8.self).hasPrefix("Action=\(action)&") }
                .count
        }

        var recordFile: String {
            (try? String(contentsOfFile: stateDir + "/lifecycle-actions.json", encoding: .utf8)) ?? ""
        }

        /// Moves the clock to each next sleeper's deadline until `done` holds (at most `steps` moves). Before each
        /// look and move it waits, in order rather than in time, until the action's `parked` loops (the completion's
        /// retries, and the heartbeats when configured) sleep on the clock again, or until the action is over.
        func drive(
            _ actions: LifecycleActions, parked: Int, steps: Int = 2000, until done: @Sendable () async -> Bool
        ) async -> Bool {
            let over = Latch()
            let watcher = Task {
                await actions.completionsSettled()
                over.fire()
            }
            defer { watcher.cancel() }
            for _ in 0..<steps {
                await firstOf({ await self.clock.waitForSleepers(parked) }, { await over.wait() })
                if await done() { return true }
                guard !over.isFired, !Task.isCancelled, let next = clock.nextDeadline else { return false }
                clock.advance(by: clock.now.duration(to: next))
            }
            return await done()
        }

        /// Each ``LifecycleActions`` made runs as the service it is, until the test ends.
        let services = RunningServices()

        deinit {
            services.cancelAll()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
    }

    static let keys = [
        "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_REGION": "eu-west-1",
    ]
    static let settings = AutoScalingSettings(
        terminationHook: "drain", group: "web-asg", heartbeatInterval: .seconds(60))
    static let instance = InstanceInfo(
        instanceID: "i-1", instanceType: "m5.large", region: "eu-west-1", availabilityZone: "eu-west-1a", accountID: "1"
    )
    static let event = Event.fixture(
        id: "asg-1", type: .asgLifecycleState, detectedAtMilliseconds: 0, instance: instance,
        data: ["state": "Terminated"])
    static let drained = [HookResult(hook: "50-drain", termination: .exited(0), duration: .seconds(1), timedOut: false)]

    static func ok(_ action: String) -> HTTPResponse {
        HTTPResponse(status: 200, body: Array("<\(action)Response><\(action)Result/></\(action)Response>".utf8))
    }

    static func hook(timeout: Int, defaultResult: String) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            body: Array(
                "<DescribeLifecycleHooksResponse><DescribeLifecycleHooksResult><LifecycleHooks><member><LifecycleHookName>drain</LifecycleHookName><HeartbeatTimeout>\(timeout)</HeartbeatTimeout><DefaultResult>\(defaultResult)</DefaultResult></member></LifecycleHooks></DescribeLifecycleHooksResult></DescribeLifecycleHooksResponse>"
                    .utf8))
    }

    static let outage = HTTPResponse(status: 500, body: [])

    /// ``settings`` without heartbeats.
    static let quiet = AutoScalingSettings(terminationHook: "drain", group: "web-asg", heartbeatInterval: .zero)

    /// Records the action and ends its drain (successfully), with no heartbeats configured.
    /// - Returns: The running actions.
    @discardableResult
    static func drainEndsWithoutHeartbeats(_ fixture: Fixture) async -> LifecycleActions {
        let actions = fixture.actions(quiet)
        await actions.deliver(event)
        await actions.sequenceEnded(event, results: drained)
        return actions
    }

    @Test func anOutageLongerThanTheOldTenRoundsIsRetriedUntilConfirmedWithHeartbeatsMeanwhile() async {
        // 80 failed attempts: more than the 10 rounds of 5 after which the completion used to stop, recorded as done.
        let fixture = Fixture { action, attempt in
            switch action {
            case "CompleteLifecycleAction": attempt <= 80 ? Self.outage : Self.ok(action)
            case "DescribeLifecycleHooks": Self.hook(timeout: 3600, defaultResult: "ABANDON")
            default: Self.ok(action)
            }
        }
        let actions = fixture.actions(Self.settings)
        await actions.deliver(Self.event)
        await actions.sequenceEnded(Self.event, results: Self.drained)
        // The hook sequence was not held: the first attempt failed and nothing is confirmed yet.
        #expect(!fixture.recordFile.contains("\"completed\""))
        let outageSeen = Locked(false)
        let confirmed = await fixture.drive(actions, parked: 2) {
            if fixture.sent("CompleteLifecycleAction") == 40 {
                let recorded = fixture.recordFile.contains("\"phase\":\"hooks-done\"")
                outageSeen.update { $0 = recorded }
            }
            return fixture.recordFile.contains("\"phase\":\"completed\"")
        }
        #expect(confirmed)
        #expect(outageSeen.value, "during the outage the action is recorded as hooks-done, not completed")
        #expect(fixture.sent("CompleteLifecycleAction") == 81)
        #expect(
            fixture.sent("RecordLifecycleActionHeartbeat") >= 10, "heartbeats go on while the completion is retried")
        #expect(fixture.log.all.contains { $0.text.hasPrefix("lifecycle action completed with CONTINUE") })
        #expect(!fixture.log.all.contains { $0.level >= .error })
        // The backoff is the client's: 0.5 s doubling, capped at 20 s (jitter injected as none).
        let completeSleeps = fixture.clock.sleptDurations.filter { $0 != .seconds(60) }
        #expect(
            completeSleeps.prefix(7) == [
                .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(20),
            ])
        #expect(completeSleeps.max() == .seconds(20))
    }

    @Test func givingUpWaitsForTheHookTimeoutAndSaysWhatHappensNextInOneLine() async {
        let fixture = Fixture { action, _ in
            switch action {
            case "CompleteLifecycleAction": Self.outage
            case "DescribeLifecycleHooks": Self.hook(timeout: 300, defaultResult: "ABANDON")
            default: Self.ok(action)
            }
        }
        let start = fixture.clock.epochMilliseconds
        let actions = await Self.drainEndsWithoutHeartbeats(fixture)
        let finished = await fixture.drive(actions, parked: 1) { fixture.recordFile.contains("gave-up") }
        #expect(finished)
        let errors = fixture.log.all.filter { $0.level >= .error }
        #expect(errors.count == 1)
        let line = errors.first?.text ?? ""
        #expect(
            line.contains("giving up CompleteLifecycleAction") && line.contains("300 s")
                && line.contains("ABANDON at HeartbeatTimeout"))
        #expect(line.contains("HTTP 500 without an error document"))
        #expect(!fixture.recordFile.contains("\"phase\":\"completed\""))
        // Retried up to the timeout, not past it: the last attempt came before the timeout and within a backoff of it.
        let elapsed = Duration.milliseconds(fixture.clock.epochMilliseconds - start)
        #expect(elapsed <= .seconds(300) && elapsed >= .seconds(280))
        #expect(fixture.sent("CompleteLifecycleAction") == 20, "0.5 s doubling to 20 s, then every 20 s until 300 s")
        // Given up: a restart sends nothing more.
        let restarted = fixture.actions(Self.quiet)
        let before = fixture.sent("CompleteLifecycleAction")
        await restarted.resumePending()
        await restarted.completionsSettled()
        #expect(fixture.sent("CompleteLifecycleAction") == before)
    }

    @Test func withoutDescribeLifecycleHooksTheBoundIsTheLongestTimeoutAWSAllows() async {
        let fixture = Fixture { action, _ in
            action == "DescribeLifecycleHooks"
                ? HTTPResponse(
                    status: 403,
                    body: Array(
                        "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>"
                            .utf8))
                : Self.outage
        }
        let start = fixture.clock.epochMilliseconds
        let actions = await Self.drainEndsWithoutHeartbeats(fixture)
        #expect(await fixture.drive(actions, parked: 1, steps: 5000) { fixture.recordFile.contains("gave-up") })
        let elapsed = Duration.milliseconds(fixture.clock.epochMilliseconds - start)
        #expect(elapsed <= .seconds(7200) && elapsed >= .seconds(7180))
        #expect(
            fixture.log.all.filter { $0.level >= .error }.map(\.text).first?.contains(
                "its DefaultResult at HeartbeatTimeout") == true)
    }

    @Test func aStopDoesNotWaitOnRetriesAndTheNextStartCompletes() async {
        let recovered = Locked(false)
        let fixture = Fixture { action, _ in
            action == "CompleteLifecycleAction" && !recovered.value
                ? HTTPResponse(
                    status: 403,
                    body: Array(
                        "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>expired</Message></Error></ErrorResponse>"
                            .utf8))
                : Self.ok(action)
        }
        let actions = fixture.actions(Self.settings)
        await actions.deliver(Self.event)
        await actions.sequenceEnded(Self.event, results: Self.drained)
        // The heartbeats and the completion's retry both parked on the clock.
        #expect(await fixture.clock.waitForSleepers(2))
        // The clock is not moved: a stop that waited for the retries would never return.
        await fixture.services.stop(actions)
        #expect(fixture.recordFile.contains("\"phase\":\"hooks-done\""))
        #expect(fixture.log.all.contains { $0.text.contains("left pending for the next start") })

        recovered.update { $0 = true }
        let restarted = fixture.actions(Self.settings)
        await restarted.resumePending()
        await restarted.completionsSettled()
        #expect(fixture.recordFile.contains("\"phase\":\"completed\""))
    }

    @Test func aDamagedActionsFileIsMovedAsideInOneSentenceKeepingTheEntriesThatRead() async throws {
        for damage in ["truncated", "garbage", "empty"] {
            let fixture = Fixture { action, _ in Self.ok(action) }
            try FileManager.default.createDirectory(atPath: fixture.stateDir, withIntermediateDirectories: true)
            let entry =
                #"{"eventID":"asg-7","phase":"hooks-done","recordedAt":1795000000000,"region":"eu-west-1","result":"CONTINUE","target":{"group":"web-asg","hook":"drain","instanceID":"i-1"}}"#
            let content =
                switch damage {
                case "truncated": "[" + entry + #",{"eventID":"asg-8","phase":"hooks-r"#
                case "garbage": "\u{1}\u{2}not json at all ]]"
                default: ""
                }
            try content.write(toFile: fixture.stateDir + "/lifecycle-actions.json", atomically: false, encoding: .utf8)
            let actions = fixture.actions(Self.settings)
            await actions.resumePending()
            await actions.completionsSettled()
            let lines = fixture.log.all.filter { $0.text.contains("lifecycle-actions.json") }
            #expect(lines.count == 1, "\(damage)")
            #expect(
                lines.first.map {
                    $0.text.contains("moved it aside") && !$0.text.contains("DecodingError") && !$0.text.contains("\n")
                } == true, "\(damage)")
            let moved =
                (try? FileManager.default.contentsOfDirectory(atPath: fixture.stateDir))?.filter {
                    $0.hasPrefix("lifecycle-actions.json.corrupt-")
                } ?? []
            #expect(moved.count == 1, "\(damage)")
            #expect(
                fixture.sent("CompleteLifecycleAction") == (damage == "truncated" ? 1 : 0),
                "\(damage): the entry that reads is kept and completed")
        }
    }

    @Test func aRejectedSignatureNamesTheCredentialsNotTheGroup() async {
        let fixture = Fixture { _, _ in
            HTTPResponse(
                status: 403,
                body: Array(
                    "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error></ErrorResponse>"
                        .utf8))
        }
        let actions = fixture.actions(AutoScalingSettings(terminationHook: "drain", heartbeatInterval: .zero))
        await actions.deliver(Self.event)
        let lines = fixture.log.all.filter { $0.level >= .error }.map(\.text)
        #expect(lines.contains { $0.contains("cannot complete lifecycle hook drain") && $0.contains("credentials") })
        #expect(!lines.contains { $0.contains("set [asg] group") })
    }
}
