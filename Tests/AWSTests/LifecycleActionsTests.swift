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

/// `LifecycleActions` on a manual clock and a fake transport: the record before the hooks, heartbeats while they
/// run, one completion, nothing sent twice, and completion of an action left pending by a previous run.
@Suite("Lifecycle actions", .serialized, .timeLimit(.minutes(1)))
struct LifecycleActionsTests {
    final class Fixture: Sendable {
        let clock = ManualClock()
        let transport: FakeTransport
        let downstream = RecordingSink()
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-lifecycle-\(UUID().uuidString)"
        ).path

        init() {
            transport = FakeTransport { request in
                let action =
                    String(decoding: request.body ?? [], as: UTF8.self).split(separator: "&").first?.split(
                        separator: "="
                    ).last.map(String.init) ?? ""
                return .success(
                    HTTPResponse(
                        status: 200, body: Array("<\(action)Response><\(action)Result/></\(action)Response>".utf8)))
            }
        }

        func actions(_ settings: AutoScalingSettings, dryRun: Bool = false) -> LifecycleActions {
            let clock = clock
            let context = LifecycleContext(
                environment: ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"],
                metadata: ScriptedMetadata.absent, transport: transport, endpoint: "https://autoscaling.test/",
                sleep: { try await clock.sleep(for: $0) }, jitter: { $0 },
                // A wall clock that stands still (a clock nobody advances).
                wallClock: ManualClock(startEpochMilliseconds: 1_800_000_000_000).wallClock,
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )
            let actions = LifecycleActions(
                settings: settings, dryRun: dryRun, downstream: downstream, context: context, stateDirectory: stateDir,
                sleep: { try await clock.sleep(for: $0) },
                logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            )
            services.start(actions)
            return actions
        }

        /// The actions of the requests sent so far, with their result when there is one.
        var sent: [String] {
            transport.requests.map { request in
                let form = Dictionary(
                    String(decoding: request.body ?? [], as: UTF8.self).split(separator: "&").map { pair in
                        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                        return (parts[0], parts.count > 1 ? parts[1] : "")
                    }
                ) { a, _ in a }
                return [form["Action"], form["LifecycleActionResult"]].compactMap(\.self).joined(separator: " ")
            }
        }

        var recordFile: String {
            (try? String(contentsOfFile: stateDir + "/lifecycle-actions.json", encoding: .utf8)) ?? ""
        }

        /// Each ``LifecycleActions`` made runs as the service it is, until the test ends.
        let services = RunningServices()

        deinit {
            services.cancelAll()
            try? FileManager.default.removeItem(atPath: stateDir)
        }
    }

    static let settings = AutoScalingSettings(
        terminationHook: "drain", group: "web-asg", heartbeatInterval: .seconds(60))
    static let instance = InstanceInfo(
        instanceID: "i-1", instanceType: "m5.large", region: "eu-west-1", availabilityZone: "eu-west-1a", accountID: "1"
    )

    static func event(_ state: String, id: String = "asg-1") -> Event {
        Event.fixture(
            id: id, type: .asgLifecycleState, detectedAtMilliseconds: 0, instance: instance,
            data: ["state": .string(state)])
    }

    static func result(_ status: Int32) -> HookResult {
        HookResult(hook: "50-drain", termination: .exited(status), duration: .seconds(1), timedOut: false)
    }

    @Test func heartbeatsWhileHooksRunThenOneCompletion() async throws {
        let fixture = Fixture()
        let actions = fixture.actions(Self.settings)
        await actions.deliver(Self.event("Terminated"))
        // Recorded before the event went on to the hooks, and the event names the group and the hook.
        #expect(fixture.recordFile.contains("\"phase\":\"hooks-running\""))
        let delivered = try #require(fixture.downstream.events.first)
        #expect(
            delivered.detail.dataJSON["group"] == "web-asg" && delivered.detail.dataJSON["lifecycle_hook"] == "drain")

        // Each heartbeat is sent before its loop parks on the clock again: waiting for the park orders the check.
        for beat in 1...3 {
            #expect(await fixture.clock.waitForSleepers(1))
            #expect(fixture.transport.requests.count == beat - 1)
            fixture.clock.advance(by: .seconds(60))
        }
        #expect(await fixture.clock.waitForSleepers(1))
        #expect(fixture.sent == Array(repeating: "RecordLifecycleActionHeartbeat", count: 3))

        await actions.sequenceEnded(Self.event("Terminated"), results: [Self.result(0)])
        await actions.completionsSettled()
        #expect(fixture.sent.last == "CompleteLifecycleAction CONTINUE")
        #expect(fixture.recordFile.contains("\"phase\":\"completed\""))
        // No heartbeat after the completion, and a restart sends nothing again.
        fixture.clock.advance(by: .seconds(600))
        await fixture.actions(Self.settings).resumePending()
        await actions.sequenceEnded(Self.event("Terminated"), results: [Self.result(0)])
        await actions.completionsSettled()
        #expect(fixture.sent.count == 4)
    }

    @Test func failingHookGivesOnHookFailureAndOtherStatesSendNothing() async {
        let fixture = Fixture()
        var settings = Self.settings
        settings.onHookFailure = .abandon
        settings.heartbeatInterval = .zero
        let actions = fixture.actions(settings)
        await actions.deliver(Self.event("InService", id: "asg-0"))
        await actions.sequenceEnded(Self.event("InService", id: "asg-0"), results: [])
        await actions.completionsSettled()
        #expect(fixture.sent.isEmpty, "no launch hook configured")
        #expect(fixture.downstream.events.first?.detail.dataJSON["lifecycle_hook"] == .null)
        await actions.deliver(Self.event("Terminated"))
        await actions.sequenceEnded(Self.event("Terminated"), results: [Self.result(0), Self.result(2)])
        await actions.completionsSettled()
        #expect(fixture.sent == ["CompleteLifecycleAction ABANDON"])
    }

    @Test func anActionLeftPendingIsCompletedOnceByTheNextRun() async {
        let fixture = Fixture()
        do {
            let crashed = fixture.actions(Self.settings)
            await crashed.deliver(Self.event("Terminated"))
        }
        #expect(fixture.sent.isEmpty)
        let restarted = fixture.actions(Self.settings)
        await restarted.resumePending()
        await restarted.completionsSettled()
        #expect(fixture.sent == ["CompleteLifecycleAction CONTINUE"])
        await fixture.actions(Self.settings).resumePending()
        #expect(fixture.sent.count == 1)
    }

    @Test func launchHookIsCompletedForInServiceAndWarmedStates() async {
        let fixture = Fixture()
        let settings = AutoScalingSettings(launchHook: "warm-up", group: "web-asg", heartbeatInterval: .zero)
        let actions = fixture.actions(settings)
        for (index, state) in ["Warmed:Stopped", "InService", "Terminated"].enumerated() {
            await actions.deliver(Self.event(state, id: "asg-\(index)"))
            await actions.sequenceEnded(Self.event(state, id: "asg-\(index)"), results: [Self.result(0)])
            await actions.completionsSettled()
        }
        #expect(fixture.sent == ["CompleteLifecycleAction CONTINUE", "CompleteLifecycleAction CONTINUE"])
        #expect(
            fixture.downstream.events.map { $0.detail.dataJSON["lifecycle_hook"] } == ["warm-up", "warm-up", .null])
    }

    @Test func resumingDoesNotCompleteAnActionThisRunStarted() async {
        let fixture = Fixture()
        var settings = Self.settings
        settings.heartbeatInterval = .zero
        let actions = fixture.actions(settings)
        // The first poll can deliver before the service's resume step runs: its action is this run's, not pending.
        await actions.deliver(Self.event("Terminated"))
        await actions.resumePending()
        await actions.completionsSettled()
        #expect(fixture.sent.isEmpty)
        await actions.sequenceEnded(Self.event("Terminated"), results: [Self.result(0)])
        await actions.completionsSettled()
        #expect(fixture.sent == ["CompleteLifecycleAction CONTINUE"])
    }

    @Test func dryRunSendsAndRecordsNothing() async {
        let fixture = Fixture()
        let actions = fixture.actions(Self.settings, dryRun: true)
        await actions.deliver(Self.event("Terminated"))
        await actions.sequenceEnded(Self.event("Terminated"), results: [])
        await actions.completionsSettled()
        #expect(fixture.sent.isEmpty)
        #expect(fixture.recordFile.isEmpty)
    }
}
