import Events
import HTTP
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Telemetry
import Testing

/// The `/metrics` listener and the textfile writer as services.
@Suite struct ServiceTests {
    @Test func listenerServesMetricsAnd404ForOtherPaths() async throws {
        let exposition = MetricsExposition()
        exposition.telemetry.start(version: "1.2.3", sources: [.spot])
        let port = Locked<Int?>(nil)
        let logs = InMemoryLogHandler()
        let listener = MetricsListener(
            host: "127.0.0.1", port: 0, exposition: exposition,
            logger: Logger(label: "test") { _ in logs }, onBound: { bound in port.update { $0 = bound } })
        let task = Task { try await listener.run() }
        defer { task.cancel() }
        #expect(await eventually { port.value != nil })
        let base = "http://127.0.0.1:\(port.value ?? 0)"
        let transport = CurlTransport()

        let metrics = try await MetricsScrape.get(base + "/metrics", transport: transport)
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(MetricsScrape(text: metrics.bodyText).value("imdswatch_build_info", ["version": "1.2.3"]) == 1)

        exposition.telemetry.recordEvent(.rebalanceRecommendation)
        let again = try await MetricsScrape.scrape(base + "/metrics?x=1", transport: transport)
        #expect(
            again.value("imdswatch_events_total", ["type": "rebalance-recommendation"]) == 1, "each scrape is current")

        #expect(try await MetricsScrape.get(base + "/", transport: transport).status == 404)
        #expect(try await MetricsScrape.get(base + "/metricsx", transport: transport).status == 404)
        let post = try await transport.send(HTTPRequest(method: .post, url: base + "/metrics", headers: [], body: []))
        #expect(post.status == 405)
        #expect(
            logs.entries.contains {
                $0.level == .info && "\($0.message)".contains("metrics listening on http://127.0.0.1:")
            })

        task.cancel()
        _ = try? await task.value
        await #expect(throws: HTTPError.self) { try await MetricsScrape.get(base + "/metrics") }
    }

    @Test func nonLoopbackBindIsLogged() async throws {
        let logs = InMemoryLogHandler()
        let port = Locked<Int?>(nil)
        let listener = MetricsListener(
            host: "0.0.0.0", port: 0, exposition: MetricsExposition(),
            logger: Logger(label: "test") { _ in logs }, onBound: { bound in port.update { $0 = bound } })
        let task = Task { try await listener.run() }
        #expect(await eventually { port.value != nil })
        task.cancel()
        _ = try? await task.value
        #expect(logs.entries.contains { $0.level == .notice && "\($0.message)".contains("non-loopback") })
        #expect(MetricsListener.isLoopback("127.0.0.1") && MetricsListener.isLoopback("::1"))
        #expect(!MetricsListener.isLoopback("0.0.0.0") && !MetricsListener.isLoopback("10.0.0.1"))
    }

    @Test func listenerThatCannotBindFailsWithTheAddress() async throws {
        let error = await #expect(throws: MetricsListenerError.self) {
            try await MetricsListener(
                host: "203.0.113.1", port: 9092, exposition: MetricsExposition(), logger: Logger(label: "t")
            ).run()
        }
        #expect(error?.message == "cannot listen for metrics on 203.0.113.1:9092: cannot assign requested address")
    }

    @Test func textfileIsWrittenAtStartAtEachEventAndAtShutdown() async throws {
        let exposition = MetricsExposition()
        exposition.telemetry.start(version: "1", sources: [.spot])
        let writes = Locked<[String]>([])
        // An interval no test run reaches: every write here comes from start, an event or shutdown.
        let textfile = MetricsTextfile(
            path: "/unused/metrics.prom", exposition: exposition, interval: .seconds(86_400), clock: ContinuousClock(),
            write: { bytes, path in
                #expect(path == "/unused/metrics.prom")
                writes.update { $0.append(String(decoding: bytes, as: UTF8.self)) }
            },
            logger: Logger(label: "test")
        )
        let task = Task { try await textfile.run() }
        #expect(await eventually { writes.value.count == 1 })
        exposition.telemetry.recordEvent(.spotInterruption)
        #expect(
            await eventually {
                writes.value.contains {
                    MetricsScrape(text: $0).value("imdswatch_events_total", ["type": "spot-interruption"]) == 1
                }
            })
        let beforeStop = writes.value.count
        task.cancel()
        _ = try? await task.value
        #expect(writes.value.count == beforeStop + 1, "one last write at shutdown")
    }

    @Test func textfileWriteFailureIsLoggedOnceAndRecovers() async throws {
        let exposition = MetricsExposition()
        let failing = Locked(true)
        let attempts = Locked(0)
        let logs = InMemoryLogHandler()
        struct DiskFull: Error {}
        let textfile = MetricsTextfile(
            path: "/x/m.prom", exposition: exposition, interval: .seconds(86_400), clock: ContinuousClock(),
            write: { _, _ in
                attempts.update { $0 += 1 }
                if failing.value { throw DiskFull() }
            },
            logger: Logger(label: "test") { _ in logs }
        )
        let task = Task { try await textfile.run() }
        #expect(await eventually { attempts.value == 1 })
        exposition.signalChange()
        #expect(await eventually { attempts.value == 2 })
        failing.update { $0 = false }
        exposition.signalChange()
        #expect(await eventually { attempts.value == 3 })
        task.cancel()
        _ = try? await task.value
        #expect(logs.entries.filter { $0.level == .error }.count == 1)
        #expect(logs.entries.contains { $0.level == .notice && "\($0.message)".contains("written again") })
    }
}
