import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Issue 21: a consumer that cannot finish (a webhook endpoint down for days) is bounded by its own limits, says so in
/// the log and in `status`, and never blocks the others or detection.
@Suite(.serialized) struct ConsumerBacklogStatusTests {
    @Test func aWebhookEndpointThatRefusesIsShownStuckInStatusWhileSpotNoticesStillReachTheHooks() async throws {
        // A port nothing listens on: every delivery is refused.
        let gone = try WebhookReceiver.start()
        let url = gone.url()
        gone.stop()
        try await withSimulator(state: SimulatorState()) { simulator in
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-backlog-\(UUID().uuidString).toml"
            ).path
            try "[[webhook]]\nurl = \"\(url)\"\ntimeout = 1\nconnect_timeout = 1\n".write(
                toFile: configPath, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: configPath) }
            let daemon = try DaemonHarness(
                simulator: simulator, arguments: ["--interval", "0.2", "--config", configPath])
            defer { Task { await daemon.tearDown() } }
            // The endpoint has been down for 30 minutes: a delivery older than that waits in the outbox (max_age 1 h).
            let outbox = daemon.stateDir + "/outbox"
            try FileManager.default.createDirectory(atPath: outbox, withIntermediateDirectories: true)
            let endpointID = try JournalDurabilityTests.endpointID(url: url)
            let created = Int64(Date().timeIntervalSince1970 * 1000) - 30 * 60 * 1000
            let body = Data(
                #"{"schema":"imdswatch.event/v1","id":"cccc0000cccc0000cccc0000cccc0000","type":"rebalance-recommendation"}"#
                    .utf8
            ).base64EncodedString()
            try """
            {"version":1,"sequence":3,"endpoint_id":"\(endpointID)","event_id":"cccc0000cccc0000cccc0000cccc0000","event_type":"rebalance-recommendation","body":"\(body)","content_type":"application/json","created_at_ms":\(created),"attempts":0,"next_attempt_ms":\(created)}
            """.write(toFile: outbox + "/0000000000000003-\(endpointID).json", atomically: true, encoding: .utf8)

            let process = try await daemon.start()
            // Detection and the hooks go on: two spot notices, one after the other, each reach the hooks.
            let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 3600).rounded(.down))
            simulator.update { $0.spot = SpotNotice(action: .terminate, time: base) }
            #expect(await daemon.waitForRecords(of: .spotInterruption, count: 1, timeout: .seconds(30)).count == 1)
            simulator.update { $0.spot = SpotNotice(action: .terminate, time: base.addingTimeInterval(-60)) }
            #expect(await daemon.waitForRecords(of: .spotInterruption, count: 2, timeout: .seconds(30)).count == 2)
            // The log names the bound.
            let warned = await process.waitForLine(timeout: .seconds(30)) {
                $0.contains("webhook delivery failed") && $0.contains("(max_age)")
            }
            #expect(warned != nil, "\(process.lines.suffix(20))")

            // status names the webhook consumer, its backlog and that it is stuck; the hooks have nothing waiting.
            let arguments = [
                "status", "--endpoint", simulator.baseURL, "--state-dir", daemon.stateDir, "--config", configPath,
            ]
            let text = try await ProcessRunner.imdswatch(arguments)
            #expect(text.status == 0, "\(text.stderr)")
            let lines = text.stdout.split(separator: "\n").map(String.init)
            let webhooks = try #require(lines.first { $0.hasPrefix("consumer webhooks:") }, "\(text.stdout)")
            #expect(webhooks.contains("STUCK"), "\(webhooks)")
            #expect(webhooks.contains("deliveries pending (oldest 30m"), "\(webhooks)")
            #expect(
                lines.contains {
                    $0.contains("webhook http://127.0.0.1:\(URL(string: url)?.port ?? 0)/hook:")
                        && $0.contains("(max_age); STUCK")
                }, "\(text.stdout)")
            let hooks = try #require(lines.first { $0.hasPrefix("consumer hooks:") }, "\(text.stdout)")
            #expect(!hooks.contains("STUCK"), "\(hooks)")

            let json = try await ProcessRunner.imdswatch(arguments + ["--json"])
            #expect(json.status == 0, "\(json.stderr)")
            guard case .array(let consumers)? = try JSONDocument.parse(json.stdout)["consumers"] else {
                Issue.record("status --json has no consumers array: \(json.stdout)")
                return
            }
            #expect(consumers.compactMap { $0["name"]?.stringValue } == ["lifecycle", "hooks", "webhooks"])
            let webhook = try #require(consumers.first { $0["name"] == "webhooks" })
            #expect(webhook["stuck"] == true)
            // The old delivery and the two spot notices.
            #expect(webhook["pending"] == 3, "\(webhook.serialized())")
            #expect(
                webhook["unacknowledged"] == 0,
                "the webhook consumer took every event into its outbox: \(webhook.serialized())")
            if case .number(let age)? = webhook["oldest_pending_age_seconds"] {
                #expect(age >= 1800)
            } else {
                Issue.record("no age: \(webhook.serialized())")
            }
            #expect(consumers.first { $0["name"] == "hooks" }?["stuck"] == false)
        }
    }

    @Test func statusWithoutAStateDirectorySaysNothingIsPending() async throws {
        try await withSimulator(state: SimulatorState()) { simulator in
            let missing = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-none-\(UUID().uuidString)"
            ).path
            let text = try await ProcessRunner.imdswatch([
                "status", "--endpoint", simulator.baseURL, "--state-dir", missing,
            ])
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("consumer hooks: nothing pending"), "\(text.stdout)")
            #expect(!text.stdout.contains("STUCK"))
            #expect(!FileManager.default.fileExists(atPath: missing), "status creates nothing")
        }
    }
}
