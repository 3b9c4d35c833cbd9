import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Retry
import Testing

@testable import Webhooks

/// End to end over libcurl against a real receiver on 127.0.0.1 (Tests/support/webhook_receiver.py).
@Suite(.serialized, .timeLimit(.minutes(2))) struct ReceiverTests {
    /// Short real-time backoff for tests, without jitter; the defaults stay 1 s and 60 s.
    let fastRetries = RetryPolicy(
        maxAttempts: .max, baseDelay: .milliseconds(100), maxDelay: .milliseconds(400), jitter: { $0 })

    func dispatcher(
        _ endpoints: [WebhookEndpoint], stateDirectory: String = temporaryDirectory(), logger: Logger
    ) throws -> WebhookDispatcher {
        // Loopback only: never through a proxy the environment may name.
        let direct = endpoints.map { endpoint in
            var endpoint = endpoint
            endpoint.proxy = .never
            return endpoint
        }
        return try WebhookDispatcher(
            endpoints: direct, stateDirectory: stateDirectory, version: "1.2.3", retryPolicy: fastRetries,
            logger: logger
        )
    }

    /// A port where nothing listens (a receiver was there a moment ago).
    func deadPort() throws -> Int {
        let receiver = try WebhookReceiver.start()
        receiver.stop()
        return receiver.port
    }

    @Test func sendsEveryHeaderAndASignaturePythonAccepts() async throws {
        let directory = temporaryDirectory()
        let secretPath = directory + "/secret"
        _ = FileManager.default.createFile(
            atPath: secretPath, contents: Data("correct horse battery staple\n".utf8),
            attributes: [.posixPermissions: 0o600])
        let receiver = try WebhookReceiver.start(secretFile: secretPath)
        let (logger, _) = capturingLogger()
        let secret = try WebhookSecret.load(fromFile: secretPath, logger: logger)
        let dispatcher = try dispatcher([WebhookEndpoint(url: receiver.url(), secret: secret)], logger: logger)
        let event = sampleEvent()
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(event)
            return try await receiver.waitForRequests(1)
        }
        let request = try #require(requests.first)
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("User-Agent") == "imdswatch/1.2.3")
        #expect(request.header("X-Imdswatch-Event") == "spot-interruption")
        #expect(request.header("X-Imdswatch-Delivery") == event.id)
        #expect(request.header("X-Imdswatch-Signature-256")?.hasPrefix("sha256=") == true)
        #expect(request.signatureValid == true)
        #expect(request.body == event.payloadBytes())
    }

    @Test func sendsCloudEventsWithTheirContentType() async throws {
        let receiver = try WebhookReceiver.start()
        let (logger, _) = capturingLogger()
        let dispatcher = try dispatcher([WebhookEndpoint(url: receiver.url(), format: .cloudevents)], logger: logger)
        let results = await dispatcher.sendOnce(sampleEvent(synthetic: true))
        #expect(results.map(\.outcome) == [.delivered(status: 200)])
        let request = try #require(try await receiver.requests().first)
        #expect(request.header("Content-Type") == "application/cloudevents+json")
        let body = try JSONDocument.parse(request.bodyText)
        for attribute in ["specversion", "id", "source", "type"] {
            #expect(body[attribute]?.stringValue?.isEmpty == false, "missing \(attribute)")
        }
        #expect(body["specversion"] == "1.0")
        #expect(body["data"]?["synthetic"] == .bool(true))
    }

    @Test func deliversOnceWhenTheReceiverComesUpLate() async throws {
        let port = try deadPort()
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher([WebhookEndpoint(url: "http://127.0.0.1:\(port)/hook")], logger: logger)
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            // Refused at least twice (a retry happened) before the receiver comes up.
            #expect(
                await eventually { handler.entries.filter { "\($0.message)".contains("connectionRefused") }.count >= 2 }
            )
            #expect(await dispatcher.pendingCount() == 1)
            let receiver = try WebhookReceiver.start(port: port)
            _ = try await receiver.waitForRequests(1)
            #expect(await until { await dispatcher.pendingCount() == 0 })
            try await Task.sleep(for: .seconds(1))
            return try await receiver.requests()
        }
        #expect(requests.count == 1)
        // No jitter: attempts at 0, 0.1, 0.3, 0.7 s… all refused while nothing listens (only the 1st, 10th… failure
        // is a warning, the others debug lines).
        let retries = handler.entries.filter { "\($0.message)".contains("connectionRefused") }
        #expect(retries.count >= 2)
        #expect(retries.first?.level == .warning)
        #expect(retries.allSatisfy { "\($0.message)".contains("next attempt at") })
    }

    @Test func retriesA503() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 503)])
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher([WebhookEndpoint(url: receiver.url())], logger: logger)
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            let requests = try await receiver.waitForRequests(2)
            #expect(await until { await dispatcher.pendingCount() == 0 })
            return requests
        }
        #expect(requests.map(\.status) == [503, 200])
        #expect(requests[0].body == requests[1].body)
        #expect(handler.entries.contains { $0.level == .warning && $0.metadata[LogField.webhookStatus] == "503" })
        #expect(handler.entries.contains { $0.level == .info && $0.metadata[LogField.webhookStatus] == "200" })
    }

    @Test func waitsForRetryAfter() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 429, headers: ["Retry-After": "3"])])
        let (logger, _) = capturingLogger()
        let dispatcher = try dispatcher([WebhookEndpoint(url: receiver.url())], logger: logger)
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            return try await receiver.waitForRequests(2, timeout: .seconds(15))
        }
        #expect(requests.map(\.status) == [429, 200])
        #expect(requests[1].time - requests[0].time >= 2.999)
    }

    @Test func dropsA400WithoutRetrying() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 400)])
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher([WebhookEndpoint(url: receiver.url())], logger: logger)
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            _ = try await receiver.waitForRequests(1)
            try await Task.sleep(for: .seconds(1.5))
            #expect(await dispatcher.pendingCount() == 0)
            return try await receiver.requests()
        }
        #expect(requests.count == 1)
        #expect(handler.entries.contains { $0.level == .error && $0.metadata[LogField.webhookStatus] == "400" })
    }

    @Test func aNewInstanceDeliversWhatAnEarlierOneLeftInTheOutbox() async throws {
        let port = try deadPort()
        let state = temporaryDirectory()
        let endpoint = WebhookEndpoint(url: "http://127.0.0.1:\(port)/hook")
        let (logger, _) = capturingLogger()
        let event = sampleEvent()
        // The first instance persists the delivery and dies before it could send it (never run, as after SIGKILL).
        let first = try dispatcher([endpoint], stateDirectory: state, logger: logger)
        await first.deliver(event)
        #expect(await first.pendingCount() == 1)

        let receiver = try WebhookReceiver.start(port: port)
        let second = try dispatcher([endpoint], stateDirectory: state, logger: logger)
        #expect(await second.pendingCount() == 1)
        let requests = try await withRunning(second) {
            let requests = try await receiver.waitForRequests(1)
            #expect(await until { await second.pendingCount() == 0 })
            return requests
        }
        #expect(requests.first?.body == event.payloadBytes())
        #expect(requests.first?.header("X-Imdswatch-Delivery") == event.id)
        let left = try FileManager.default.contentsOfDirectory(atPath: state + "/outbox").filter {
            $0.hasSuffix(".json")
        }
        #expect(left.isEmpty)
    }

    @Test func aSlowReceiverDelaysNeitherTheCallerNorAnotherEndpoint() async throws {
        let receiver = try WebhookReceiver.start()
        // The receiver records a request only once it has answered it, 90 s later (the suite's limit is 2 minutes):
        // while `/slow` has no record, its first attempt is still stuck.
        try await receiver.script([.init(status: 200, delaySeconds: 90)], path: "/slow")
        let (logger, _) = capturingLogger()
        let slow = WebhookEndpoint(url: receiver.url("/slow"), timeout: .seconds(100))
        let fast = WebhookEndpoint(url: receiver.url("/fast"))
        let dispatcher = try dispatcher([slow, fast], logger: logger)
        let task = Task { try await dispatcher.run() }
        await dispatcher.deliver(sampleEvent(id: "one"))
        _ = try await receiver.waitForRequests(1, path: "/fast", timeout: .seconds(60))
        await dispatcher.deliver(sampleEvent(id: "two"))
        let fastRequests = try await receiver.waitForRequests(2, path: "/fast", timeout: .seconds(60))
        // Both calls returned, and the other endpoint got both events, while the slow attempt was still stuck.
        #expect(fastRequests.map { $0.header("X-Imdswatch-Delivery") } == ["one", "two"])
        #expect(try await receiver.requests(path: "/slow").isEmpty)
        // Shutdown does not wait for the stuck attempt: it returns with it unanswered, and both slow deliveries stay
        // pending.
        dispatcher.shutdown()
        try await task.value
        #expect(try await receiver.requests(path: "/slow").isEmpty)
        #expect(await dispatcher.pendingCount() == 2)
    }

    @Test func credentialsNeverReachTheLog() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 503)], path: "/hook?token=t0ps3cret")
        let (logger, handler) = capturingLogger()
        let url = "http://alice:pa55w0rd@127.0.0.1:\(receiver.port)/hook?token=t0ps3cret"
        let endpoint = WebhookEndpoint(
            url: url, headers: [HTTPHeader("Authorization", "Bearer b3arer")],
            secret: WebhookSecret(bytes: Array("s1gning-key".utf8))
        )
        let dispatcher = try dispatcher([endpoint], logger: logger)
        let requests = try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            let requests = try await receiver.waitForRequests(2, path: "/hook?token=t0ps3cret")
            #expect(await until { await dispatcher.pendingCount() == 0 })
            return requests
        }
        #expect(requests.last?.header("Authorization") == "Bearer b3arer")
        let lines = renderedLines(handler)
        #expect(lines.count >= 2)
        for secret in ["pa55w0rd", "t0ps3cret", "b3arer", "s1gning-key", "alice"] {
            #expect(!lines.contains { $0.contains(secret) }, "\(secret) leaked")
        }
        #expect(
            handler.entries.contains {
                $0.metadata[LogField.webhookURL] == "http://***@127.0.0.1:\(receiver.port)/hook?token=***"
            })
    }

    @Test func sendOnceReportsEachEndpoint() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 400)], path: "/refuse")
        let port = try deadPort()
        let (logger, _) = capturingLogger()
        let dispatcher = try dispatcher(
            [
                WebhookEndpoint(url: receiver.url("/ok")),
                WebhookEndpoint(url: receiver.url("/refuse")),
                WebhookEndpoint(url: "http://127.0.0.1:\(port)/"),
                WebhookEndpoint(url: receiver.url("/other"), events: [.tagsChanged]),
            ], logger: logger)
        let outcomes = await dispatcher.sendOnce(sampleEvent(synthetic: true)).map(\.outcome)
        #expect(outcomes.count == 4)
        #expect(outcomes[0] == .delivered(status: 200))
        #expect(outcomes[1] == .rejected(status: 400))
        if case .failed(let reason) = outcomes[2] {
            #expect(reason.contains("connectionRefused"))
        } else {
            Issue.record("\(outcomes[2])")
        }
        #expect(outcomes[3] == .filtered)
        #expect(await dispatcher.pendingCount() == 0)
    }
}
