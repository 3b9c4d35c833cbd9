import Events
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Telemetry
import Testing

/// The `/metrics` listener's bounds (``MetricsListenerLimits``) on short configurations, over raw TCP connections.
/// The waits are hang guards: each test asserts that the server closed a connection, never how fast.
@Suite struct ListenerLimitsTests {
    /// Runs a listener with `limits` on a free loopback port; `body` gets the port and the log.
    private func withListener(
        _ limits: MetricsListenerLimits, _ body: (Int, InMemoryLogHandler) async throws -> Void
    ) async throws {
        let exposition = MetricsExposition()
        exposition.telemetry.start(version: "1.2.3", sources: [.spot])
        let port = Locked<Int?>(nil)
        let logs = InMemoryLogHandler()
        let listener = MetricsListener(
            host: "127.0.0.1", port: 0, exposition: exposition, limits: limits,
            logger: Logger(label: "test") { _ in logs }, onBound: { bound in port.update { $0 = bound } })
        let task = Task { try await listener.run() }
        defer { task.cancel() }
        try #require(await eventually { port.value != nil })
        try await body(port.value ?? 0, logs)
        task.cancel()
        _ = try? await task.value
    }

    private static let scrape = "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    private static let guardTime = Duration.seconds(30)

    @Test func aConnectionBeyondTheCapIsClosedAndTheOthersAreServed() async throws {
        let limits = MetricsListenerLimits(maxConnections: 3, requestTimeout: .seconds(600), idleTimeout: .seconds(600))
        try await withListener(limits) { port, logs in
            let held = try (0..<3).map { _ in try TCPConnection(port: port) }
            let extra = try TCPConnection(port: port)
            let refused = await extra.readUntilClosed(timeout: Self.guardTime)
            #expect(refused.closed && refused.bytes.isEmpty, "the fourth connection is closed unanswered")
            #expect(
                logs.entries.filter {
                    $0.level == .warning && "\($0.message)".contains("3 connections open, its limit")
                }.count == 1)

            // The three accepted before it are served.
            for connection in held {
                #expect(connection.send(Self.scrape))
                let answer = await connection.readUntilClosed(timeout: Self.guardTime)
                #expect(String(decoding: answer.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200 OK"))
            }
            // Their slots are free again once they closed: a new connection is served.
            let served = await eventually(timeout: Self.guardTime) {
                guard let again = try? TCPConnection(port: port), again.send(Self.scrape) else { return false }
                return String(decoding: await again.readUntilClosed(timeout: Self.guardTime).bytes, as: UTF8.self)
                    .hasPrefix("HTTP/1.1 200 OK")
            }
            #expect(served)
        }
    }

    @Test func aRequestTrickledSlowerThanTheRequestTimeoutIsClosed() async throws {
        let limits = MetricsListenerLimits(
            maxConnections: 4, requestTimeout: .milliseconds(300), idleTimeout: .seconds(600))
        try await withListener(limits) { port, _ in
            let connection = try TCPConnection(port: port)
            #expect(connection.send("GET /metrics HTTP/1.1\r\n"))
            // One header byte every 50 ms: never idle, never complete.
            let deadline = ContinuousClock.now + Self.guardTime
            var closed = false
            var answered: [UInt8] = []
            while !closed, ContinuousClock.now < deadline {
                _ = connection.send("X")
                let read = await connection.readUntilClosed(timeout: .milliseconds(50))
                answered += read.bytes
                closed = read.closed
            }
            #expect(closed, "a slow request is cut off")
            #expect(answered.isEmpty)
        }
    }

    @Test func aKeptAliveConnectionIsClosedWhenNoNextRequestComes() async throws {
        let limits = MetricsListenerLimits(
            maxConnections: 4, requestTimeout: .milliseconds(300), idleTimeout: .seconds(600))
        try await withListener(limits) { port, _ in
            let connection = try TCPConnection(port: port)
            #expect(connection.send("GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"))
            let read = await connection.readUntilClosed(timeout: Self.guardTime)
            let text = String(decoding: read.bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"), "the request in time is answered")
            #expect(
                text.contains("imdswatch_build_info{version=\"1.2.3\"} 1"), "the whole response came before the close")
            #expect(read.closed, "then the idle kept-alive connection is closed")
        }
    }

    @Test func aSilentConnectionIsClosedAfterTheIdleTimeout() async throws {
        let limits = MetricsListenerLimits(
            maxConnections: 4, requestTimeout: .seconds(600), idleTimeout: .milliseconds(300))
        try await withListener(limits) { port, _ in
            let connection = try TCPConnection(port: port)
            let read = await connection.readUntilClosed(timeout: Self.guardTime)
            #expect(read.closed && read.bytes.isEmpty)
        }
    }

    @Test func theDaemonsBoundsAreFarBelowTheDefaultDescriptorLimit() {
        let limits = MetricsListenerLimits.daemon
        #expect(limits.maxConnections == 16, "systemd's default soft limit is 1024")
        #expect(limits.requestTimeout == .seconds(10))
        #expect(limits.idleTimeout == .seconds(30))
    }
}
