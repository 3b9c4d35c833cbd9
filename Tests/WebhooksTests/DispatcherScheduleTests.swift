import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Retry
import Testing

@testable import Webhooks

/// The retry schedule, with a fake transport and virtual time. Waits have no deadline of their own: the suite's time
/// limit ends a hung test.
@Suite(.timeLimit(.minutes(2))) struct DispatcherScheduleTests {
    /// Virtual time: every backoff is slept at once.
    let clock = ManualClock(advancesOnSleep: true, startEpochMilliseconds: 1_795_003_081_532)

    func dispatcher(
        _ transport: FakeTransport, endpoint: WebhookEndpoint = WebhookEndpoint(url: "http://127.0.0.1:9/hook"),
        jitter: @escaping @Sendable (Duration) -> Duration = { $0 }, logger: Logger,
        stateDirectory: String = temporaryDirectory()
    ) throws -> WebhookDispatcher {
        var retryPolicy = RetryPolicy.webhook
        retryPolicy.jitter = jitter
        return try WebhookDispatcher(
            endpoints: [endpoint], stateDirectory: stateDirectory, version: "1.2.3", retryPolicy: retryPolicy,
            transportFactory: { _ in transport }, clock: clock.wallClock, logger: logger
        )
    }

    @Test func backsOffExponentiallyThenDelivers() async throws {
        let transport = FakeTransport(
            clock: clock, answers: [.status(503), .error(.connectionRefused), .status(500), .status(204)])
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher(transport, logger: logger)
        let start = clock.now
        try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            // 65 attempts, each an fsynced outbox update: on a disk busy with other suites (the kill loop) that can
            // take well over 10 s of wall time, though the schedule itself is virtual; waited for without a deadline.
            #expect(await until { await dispatcher.pendingCount() == 0 })
        }
        let times = transport.arrivals.map { start.duration(to: $0) }
        #expect(times == [.zero, .seconds(1), .seconds(3), .seconds(7)])
        let warnings = handler.entries.filter { $0.level == .warning }
        #expect(warnings.count == 1, "the first failure is a warning, the next ones debug lines")
        #expect(warnings.first?.metadata[LogField.webhookStatus] == "503")
        let failures = handler.entries.filter { "\($0.message)".contains("webhook delivery failed") }
        #expect(failures.map(\.level) == [.warning, .debug, .debug])
        #expect(failures.allSatisfy { "\($0.message)".contains("next attempt at") })
        let success = try #require(handler.entries.first { $0.level == .info && "\($0.message)".contains("delivered") })
        #expect(success.metadata[LogField.webhookStatus] == "204")
        #expect(success.metadata[LogField.eventType] == "spot-interruption")
        #expect(success.metadata[LogField.eventID] == .string(sampleEvent().id))
        #expect(success.metadata[LogField.webhookURL] == "http://127.0.0.1:9/hook")
    }

    @Test func honoursRetryAfter() async throws {
        let transport = FakeTransport(
            clock: clock, answers: [.status(429, [HTTPHeader("Retry-After", "3")]), .status(200)])
        let (logger, _) = capturingLogger()
        let dispatcher = try dispatcher(transport, jitter: { _ in .zero }, logger: logger)
        try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            #expect(await until { await dispatcher.pendingCount() == 0 })
        }
        let times = transport.arrivals
        #expect(times.count == 2)
        #expect(times[0].duration(to: times[1]) >= .seconds(3))
    }

    @Test func dropsOn400WithoutRetrying() async throws {
        let transport = FakeTransport(clock: clock, answers: [.status(400)])
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher(transport, logger: logger)
        try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            #expect(await until { await dispatcher.pendingCount() == 0 })
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(transport.requests.count == 1)
        let drop = try #require(handler.entries.first { $0.level == .error })
        #expect("\(drop.message)".contains("not retried"))
        #expect(drop.metadata[LogField.webhookStatus] == "400")
    }

    @Test func givesUpAtTheMaximumAge() async throws {
        let transport = FakeTransport(clock: clock, answers: Array(repeating: .status(503), count: 1000))
        let (logger, handler) = capturingLogger()
        let dispatcher = try dispatcher(transport, logger: logger)
        let start = clock.now
        try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            // 65 attempts, each an fsynced outbox update: on a disk busy with other suites (the kill loop) that can
            // take well over 10 s of wall time, though the schedule itself is virtual; waited for without a deadline.
            #expect(await until { await dispatcher.pendingCount() == 0 })
        }
        let last = try #require(transport.arrivals.last)
        #expect(start.duration(to: last) < .seconds(3600))
        #expect(start.duration(to: last) > .seconds(3500))
        // 1+2+…+32 s, then every 60 s until the hour is up.
        let expected = 6 + (3_600_000 - 63_000) / 60_000 + 1
        #expect(transport.requests.count == expected)
        #expect(handler.entries.contains { $0.level == .error && "\($0.message)".contains("maximum age") })
        let warnings = handler.entries.filter { $0.level == .warning }.map { "\($0.message)" }
        #expect(warnings.count == 2, "the 1st and the 10th of \(expected) failed attempts: \(warnings)")
        #expect(warnings.last?.contains("attempt 10") == true)
    }

    @Test func reportedFailuresAreTheFirstAndEveryPowerOfTen() {
        let reported = (1...1000).filter { WebhookDispatcher.isReportedFailure(attempt: $0) }
        #expect(reported == [1, 10, 100, 1000])
    }

    @Test func keepsOrderPerEndpoint() async throws {
        let transport = FakeTransport(clock: clock, answers: [.status(503), .status(503)])
        let (logger, _) = capturingLogger()
        let dispatcher = try dispatcher(transport, logger: logger)
        try await withRunning(dispatcher) {
            for index in 1...4 { await dispatcher.deliver(sampleEvent(id: "event-\(index)")) }
            #expect(await until { await dispatcher.pendingCount() == 0 })
        }
        let order = transport.requests.compactMap { $0.headers.first { $0.name == "X-Imdswatch-Delivery" }?.value }
        #expect(order == ["event-1", "event-1", "event-1", "event-2", "event-3", "event-4"])
    }

    @Test func filtersByEventType() async throws {
        let transport = FakeTransport(clock: clock, answers: [])
        let (logger, _) = capturingLogger()
        let endpoint = WebhookEndpoint(url: "http://127.0.0.1:9/hook", events: [.maintenanceScheduled])
        let dispatcher = try dispatcher(transport, endpoint: endpoint, logger: logger)
        await dispatcher.deliver(sampleEvent())
        #expect(await dispatcher.pendingCount() == 0)
        await dispatcher.deliver(sampleEvent(type: .maintenanceScheduled))
        #expect(await dispatcher.pendingCount() == 1)
    }

    @Test func dryRunSendsAndStoresNothing() async throws {
        let transport = FakeTransport(clock: clock, answers: [])
        let (logger, handler) = capturingLogger()
        let directory = temporaryDirectory()
        let dispatcher = try WebhookDispatcher(
            endpoints: [WebhookEndpoint(url: "http://127.0.0.1:9/hook")], stateDirectory: directory, version: "1",
            dryRun: true, transportFactory: { _ in transport }, clock: clock.wallClock, logger: logger
        )
        try await withRunning(dispatcher) {
            await dispatcher.deliver(sampleEvent())
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(transport.requests.isEmpty)
        #expect(await dispatcher.pendingCount() == 0)
        #expect(await dispatcher.sendOnce(sampleEvent()).map(\.outcome) == [.dryRun])
        #expect(transport.requests.isEmpty)
        #expect(handler.entries.contains { "\($0.message)".contains("dry run: would POST") })
    }

    @Test func followsRedirectsOnlyWhenAllowed() async throws {
        let redirect = FakeTransport.Answer.status(307, [HTTPHeader("Location", "/moved")])
        let (logger, _) = capturingLogger()
        let refusing = FakeTransport(clock: clock, answers: [redirect])
        let off = try dispatcher(refusing, logger: logger)
        #expect(await off.sendOnce(sampleEvent()).map(\.outcome) == [.rejected(status: 307)])

        let following = FakeTransport(clock: clock, answers: [redirect, .status(200)])
        let on = try dispatcher(
            following, endpoint: WebhookEndpoint(url: "http://127.0.0.1:9/hook", followRedirects: true), logger: logger)
        #expect(await on.sendOnce(sampleEvent()).map(\.outcome) == [.delivered(status: 200)])
        #expect(following.requests.map(\.url) == ["http://127.0.0.1:9/hook", "http://127.0.0.1:9/moved"])
        #expect(following.requests[1].body == following.requests[0].body)
    }

    @Test func aRedirectToAnotherOriginCarriesNeitherExtraHeadersNorTheSignature() async throws {
        let (logger, _) = capturingLogger()
        for (location, crosses) in [
            ("/moved", false), ("http://127.0.0.1:10/x", true), ("http://other.example:9/x", true),
            ("https://127.0.0.1:9/x", true),
        ] {
            let transport = FakeTransport(
                clock: clock, answers: [.status(307, [HTTPHeader("Location", location)]), .status(200)])
            let endpoint = WebhookEndpoint(
                url: "http://127.0.0.1:9/hook", headers: [HTTPHeader("Authorization", "Bearer x")],
                secret: WebhookSecret(bytes: Array("s3cret".utf8)), followRedirects: true
            )
            let dispatcher = try dispatcher(transport, endpoint: endpoint, logger: logger)
            #expect(await dispatcher.sendOnce(sampleEvent()).map(\.outcome) == [.delivered(status: 200)])
            let first = try #require(transport.requests.first?.headers)
            let second = try #require(transport.requests.last?.headers)
            #expect(
                first.contains { $0.name == "Authorization" }
                    && first.contains { $0.name == "X-Imdswatch-Signature-256" })
            #expect(second.contains { $0.name == "Authorization" } == !crosses, "\(location)")
            #expect(second.contains { $0.name == "X-Imdswatch-Signature-256" } == !crosses, "\(location)")
        }
    }

    @Test func reservedHeadersCannotBeOverridden() async throws {
        let transport = FakeTransport(clock: clock, answers: [])
        let (logger, _) = capturingLogger()
        let endpoint = WebhookEndpoint(
            url: "http://127.0.0.1:9/hook",
            headers: [HTTPHeader("Authorization", "Bearer x"), HTTPHeader("X-Imdswatch-Event", "forged")]
        )
        let dispatcher = try dispatcher(transport, endpoint: endpoint, logger: logger)
        _ = await dispatcher.sendOnce(sampleEvent())
        let headers = try #require(transport.requests.first?.headers)
        #expect(headers.filter { $0.name == "X-Imdswatch-Event" }.map(\.value) == ["spot-interruption"])
        #expect(headers.contains(HTTPHeader("Authorization", "Bearer x")))
        #expect(headers.contains(HTTPHeader("User-Agent", "imdswatch/1.2.3")))
    }

    @Test func dropsPendingDeliveriesOfEndpointsNoLongerConfigured() async throws {
        let state = temporaryDirectory()
        let (logger, handler) = capturingLogger()
        let outbox = WebhookOutbox(directory: state + "/outbox", logger: logger)
        await outbox.add(
            OutboxEntry(
                sequence: 0, endpointID: "0123456789abcdef", eventID: "old", eventType: "spot-interruption",
                body: [], contentType: "application/json", createdAtMilliseconds: clock.epochMilliseconds))
        let transport = FakeTransport(clock: clock, answers: [])
        let dispatcher = try dispatcher(transport, logger: logger, stateDirectory: state)
        try await withRunning(dispatcher) {
            #expect(await until { await dispatcher.pendingCount() == 0 })
        }
        #expect(transport.requests.isEmpty)
        #expect(handler.entries.contains { $0.level == .error && "\($0.message)".contains("no longer configured") })
    }

    @Test func rejectsInvalidURLs() {
        let (logger, _) = capturingLogger()
        #expect(throws: WebhookError.self) {
            try WebhookDispatcher(
                endpoints: [WebhookEndpoint(url: "ftp://x/")], stateDirectory: temporaryDirectory(), version: "1",
                logger: logger)
        }
    }
}
