import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Webhook receivers that hang or vanish under the real daemon: polling and hooks go on, the delivery is retried
/// and arrives once the receiver answers, and the log has a line per failed attempt (backed off), not per poll.
extension FaultInjection {
    @Suite struct WebhookTests {
        typealias K = FaultKit
        static let failedAttempt = "webhook delivery failed"

        /// Writes a temporary config file with one `[[webhook]]` (1 s per attempt); the caller removes it.
        private static func writeConfig(url: String) throws -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-faults-\(UUID().uuidString).toml"
            ).path
            try """
            [[webhook]]
            url = "\(url)"
            timeout = 1
            connect_timeout = 1
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Waits for a 200 delivery of `id` at the receiver.
        private static func delivered(_ receiver: WebhookReceiver, id: String, timeout: Duration) async throws
            -> [WebhookReceiver.Request]
        {
            try await waitForValue(timeout: timeout, every: .milliseconds(100)) {
                () async throws -> [WebhookReceiver.Request]? in
                let found = try await receiver.requests(path: "/hook").filter {
                    $0.status == 200 && $0.header("X-Imdswatch-Delivery") == id
                }
                return found.isEmpty ? nil : found
            } ?? []
        }

        @Test func hangingReceiver() async throws {
            let receiver = try WebhookReceiver.start()
            defer { receiver.stop() }
            let configPath = try Self.writeConfig(url: receiver.url())
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            try await K.withDaemon(arguments: ["--config", configPath]) { daemon in
                let simulator = daemon.simulator
                _ = try await receiver.waitForRequests(1) // the first-run event: the webhook machinery is warm
                try await receiver.script([.init(status: 200, delaySeconds: 20)])
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
                // The hook runs although the receiver hangs (that it does not wait for it is checked by order in
                // DaemonWebhookTests.slowReceiverDoesNotDelayTheSpotHook); polling goes on.
                let records = await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(60))
                let id = try #require(records.first?["id"]?.stringValue)
                let from = K.requests(daemon)
                #expect(await K.waitForPolls(daemon, 20, after: from, timeout: .seconds(60)), "polling goes on")

                let requests = try await Self.delivered(receiver, id: id, timeout: .seconds(8))
                #expect(requests.count == 1, "the retry after the timed-out attempt arrives")
                let failed = K.lines(daemon, containing: Self.failedAttempt, from: logStart)
                #expect(failed.count == 1, "one line for the one timed-out attempt: \(failed)")
                #expect(
                    failed.first?.contains("timeout") == true || failed.first?.contains("timed out") == true,
                    "\(failed)")
                #expect(await K.waitForLine(daemon, containing: "webhook delivered", from: logStart) != nil)
                try await Task.sleep(for: .milliseconds(300))
                #expect(K.counts(daemon) == ["asg-lifecycle-state": 1, "spot-interruption": 1])
                K.expectFlat(baseline, try K.sample(daemon), "after a hanging receiver")
            }
        }

        @Test func receiverKilledThenRestartedOnTheSamePort() async throws {
            var receiver = try WebhookReceiver.start()
            let port = receiver.port
            let url = receiver.url()
            let configPath = try Self.writeConfig(url: url)
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            do {
                try await K.withDaemon(arguments: ["--config", configPath]) { daemon in
                    let simulator = daemon.simulator
                    _ = try await receiver.waitForRequests(1) // the first-run event: the webhook machinery is warm
                    let baseline = try K.sample(daemon)
                    let logStart = K.lineCount(daemon)
                    receiver.stop() // SIGKILL: connections are refused from now on

                    simulator.update { $0.rebalance = K.t0 }
                    let records = await daemon.waitForRecords(of: .rebalanceRecommendation, timeout: .seconds(3))
                    let id = try #require(records.first?["id"]?.stringValue, "the hook runs with the receiver down")
                    let from = K.requests(daemon)
                    #expect(await K.waitForLine(daemon, containing: Self.failedAttempt, from: logStart) != nil)
                    try await Task.sleep(for: .seconds(2))
                    let polls = K.requests(daemon) - from
                    #expect(polls >= 20, "polling goes on: \(polls)")
                    let failedWhileDown = K.lines(daemon, containing: Self.failedAttempt, from: logStart)
                    #expect(
                        failedWhileDown.count <= 5,
                        "a line per backed-off attempt, not per poll (\(polls) polls): \(failedWhileDown)")

                    receiver = try WebhookReceiver.start(port: port)
                    let requests = try await Self.delivered(receiver, id: id, timeout: .seconds(15))
                    #expect(requests.count == 1, "delivered once the receiver is back")
                    #expect(await K.waitForLine(daemon, containing: "webhook delivered", from: logStart) != nil)
                    let failed = K.lines(daemon, containing: Self.failedAttempt, from: logStart)
                    #expect(failed.count <= 8, "\(failed)")
                    let outbox =
                        ((try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/outbox")) ?? [])
                        .filter { !$0.hasPrefix(".") }
                    #expect(outbox.isEmpty, "the outbox is empty once delivered: \(outbox)")
                    #expect(K.counts(daemon) == ["asg-lifecycle-state": 1, "rebalance-recommendation": 1])
                    K.expectFlat(baseline, try K.sample(daemon), "after a receiver outage")
                }
                receiver.stop()
            } catch {
                receiver.stop()
                throw error
            }
        }
    }
}
