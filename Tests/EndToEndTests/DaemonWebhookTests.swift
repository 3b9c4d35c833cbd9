import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Webhooks through the real daemon: sent at detection time, signed, never delaying hooks, surviving SIGKILL.
@Suite(.serialized) struct DaemonWebhookTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600)

    private func secretFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-secret-\(UUID().uuidString)"
        ).path
        try "s3cret-key\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        return path
    }

    @Test func spotEventIsPostedSignedWithEveryHeader() async throws {
        let secret = try secretFile()
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let receiver = try WebhookReceiver.start(secretFile: secret)
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(
                simulator: simulator,
                arguments: [
                    "--webhook", receiver.url(), "--webhook-secret-file", secret, "--webhook-format", "cloudevents",
                ])
            do {
                try await daemon.start()
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                let records = await daemon.waitForRecords(of: .spotInterruption)
                let id = try #require(records.first?["id"]?.stringValue)
                let requests = try await receiver.waitForRequests(1, timeout: .seconds(60))
                let request = try #require(requests.first)
                #expect(request.header("Content-Type") == "application/cloudevents+json")
                #expect(request.header("User-Agent")?.hasPrefix("imdswatch/") == true)
                #expect(request.header("X-Imdswatch-Event") == "spot-interruption")
                #expect(request.header("X-Imdswatch-Delivery") == id)
                #expect(request.signatureValid == true, "verified with Python's hmac")
                let body = try JSONDocument.parse(request.bodyText)
                #expect(body["specversion"] == "1.0")
                #expect(body["type"] == "imdswatch.spot-interruption")
                #expect(body["source"] == "imdswatch/i-0123456789abcdef0")
                #expect(body["data"]?["id"] == .string(id))
                await daemon.tearDown()
            } catch {
                await daemon.tearDown()
                throw error
            }
        }
    }

    @Test func slowReceiverDoesNotDelayTheSpotHook() async throws {
        let receiver = try WebhookReceiver.start()
        // The receiver records a request once it has answered it: 90 s later (so never within this test).
        try await receiver.script([.init(status: 200, delaySeconds: 90)])
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator, arguments: ["--webhook", receiver.url()])
            do {
                try await daemon.start()
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                let records = await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(60))
                #expect(records.count == 1)
                #expect(
                    try await receiver.requests(path: "/hook").isEmpty,
                    "the hook ran while the receiver was still answering")
                await daemon.tearDown()
            } catch {
                await daemon.tearDown()
                throw error
            }
        }
    }

    /// How many rebalance recommendations the daemon's saved state says have fired.
    static func firedRebalances(stateDirectory: String) -> Int {
        guard case .array(let fired)? = SavedState.read(stateDirectory: stateDirectory)?["rebalance"]?["fired"] else {
            return 0
        }
        return fired.count
    }

    /// How many events' hooks the daemon has still to run (or finish), by its `hooks-pending/` directory.
    static func pendingHookSequences(stateDirectory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: stateDirectory + "/hooks-pending")) ?? []).filter {
            !$0.hasPrefix(".")
        }.count
    }

    @Test func pendingDeliverySurvivesSigkill() async throws {
        let receiver = try WebhookReceiver.start()
        // The receiver is down (503) while the daemon detects the event; the daemon is then killed. Three 503s: the
        // backoff (about 1 + 2 + 4 s) keeps the delivery pending while the test waits for the state to be saved.
        try await receiver.script(Array(repeating: .init(status: 503), count: 3))
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator, arguments: ["--webhook", receiver.url()])
            do {
                try await daemon.start()
                simulator.update { $0.rebalance = Self.t0 }
                await daemon.waitForRecords(of: .rebalanceRecommendation)
                _ = try await receiver.waitForRequests(1, timeout: .seconds(60))
                // Killed once the daemon has recorded that the event fired (in the journal, with the event; the first
                // POST above came from the outbox) and its hooks have finished: killed before, it would rightly fire
                // the event again, or run its hooks again (they are at least once).
                #expect(
                    await eventually {
                        Self.firedRebalances(stateDirectory: daemon.stateDir) > 0
                            && Self.pendingHookSequences(stateDirectory: daemon.stateDir) == 0
                    })
                daemon.process?.signal(SIGKILL)
                await daemon.process?.wait()
                let outbox = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/outbox")
                #expect(!outbox.filter { !$0.hasPrefix(".") }.isEmpty, "the delivery waits in the outbox: \(outbox)")

                try await daemon.start()
                let delivered =
                    try await waitForValue(timeout: .seconds(60), every: .milliseconds(100)) {
                        () async throws -> [WebhookReceiver.Request]? in
                        let delivered = try await receiver.requests(path: "/hook").filter { $0.status == 200 }
                        return delivered.isEmpty ? nil : delivered
                    } ?? []
                #expect(delivered.count == 1, "delivered after the restart")
                #expect(delivered.first?.header("X-Imdswatch-Event") == "rebalance-recommendation")
                #expect(daemon.records(of: .rebalanceRecommendation).count == 1, "the event itself did not fire again")
                await daemon.tearDown()
            } catch {
                await daemon.tearDown()
                throw error
            }
        }
    }

    @Test func hooksTestSendsASyntheticEventToTheWebhooks() async throws {
        let receiver = try WebhookReceiver.start()
        let hooks = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-hooks-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: hooks) }
        let outcome = try await ProcessRunner.imdswatch([
            "hooks", "test", "rebalance-recommendation", "--webhooks",
            "--hooks-dir", hooks, "--webhook", receiver.url(),
        ])
        #expect(outcome.status == 0, "\(outcome.stdout) \(outcome.stderr)")
        let request = try #require(try await receiver.requests(path: "/hook").first)
        #expect(request.header("X-Imdswatch-Event") == "rebalance-recommendation")
        let body = try JSONDocument.parse(request.bodyText)
        #expect(body["synthetic"] == .bool(true))
        #expect(outcome.stdout.contains("127.0.0.1"), "each webhook's outcome is reported: \(outcome.stdout)")
    }
}
