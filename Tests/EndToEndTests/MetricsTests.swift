import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// `[metrics]` on the real daemon against the simulator: the `/metrics` listener and the textfile after real events,
/// `promtool check metrics` on both, the shipped alert rules under `promtool check rules`, and a real Prometheus
/// server scraping the listener. promtool and prometheus come from Debian's `prometheus` package (scripts/test
/// installs it); without them these tests fail, they never skip.
@Suite(.serialized) struct MetricsTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29T12:00:00Z
    static let promtool = "/usr/bin/promtool"
    static let prometheus = "/usr/bin/prometheus"
    static let spotEvents = ["type": "spot-interruption"]

    /// The repository root, from this file's path.
    static let repositoryRoot: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/")
    }()

    /// A started daemon with `--metrics-listen 127.0.0.1:0` and `[metrics] textfile`; `body` gets the daemon, the
    /// `/metrics` URL (port read from the daemon's log) and the textfile path.
    private func withMetricsDaemon(
        arguments: [String] = [],
        prepare: (DaemonHarness) throws -> Void = { _ in },
        _ body: (DaemonHarness, String, String) async throws -> Void
    ) async throws {
        try await withSimulator { simulator in
            let base = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-metrics-\(UUID().uuidString)"
            ).path
            let textfileDir = base + "/textfile"
            try FileManager.default.createDirectory(atPath: textfileDir, withIntermediateDirectories: true)
            let config = base + "/imdswatch.toml"
            try "[metrics]\ntextfile = \"\(textfileDir)/imdswatch.prom\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let harness = try DaemonHarness(
                simulator: simulator, arguments: ["--config", config, "--metrics-listen", "127.0.0.1:0"] + arguments)
            defer { try? FileManager.default.removeItem(atPath: base) }
            do {
                try prepare(harness)
                let process = try await harness.start()
                let line = try #require(
                    await process.waitForLine { $0.contains("metrics listening on http://127.0.0.1:") })
                let start = try #require(line.range(of: "http://127.0.0.1:"))
                let url = String(line[start.lowerBound...].prefix { !$0.isWhitespace && $0 != "\"" })
                #expect(url.hasSuffix("/metrics"), "\(line)")
                try await body(harness, url, textfileDir + "/imdswatch.prom")
                await harness.tearDown()
            } catch {
                await harness.tearDown()
                throw error
            }
        }
    }

    /// Scrapes until `condition` holds (at most `timeout`, a bound for a hung daemon); returns the last scrape.
    private func scrape(_ url: String, timeout: Duration = .seconds(15), until condition: (MetricsScrape) -> Bool)
        async throws -> MetricsScrape
    {
        let met = try await waitForValue(timeout: timeout, every: .milliseconds(50)) {
            () async throws -> MetricsScrape? in
            let scrape = try await MetricsScrape.scrape(url)
            return condition(scrape) ? scrape : nil
        }
        if let met { return met }
        return try await MetricsScrape.scrape(url)
    }

    /// `promtool check metrics` on `text`: must exit 0 and report nothing.
    private func expectPromtoolClean(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.promtool),
            "promtool missing: install Debian's prometheus package (scripts/test does)", sourceLocation: sourceLocation)
        let outcome = try await ProcessRunner.run(Self.promtool, ["check", "metrics"], stdin: text)
        #expect(outcome.status == 0, "\(what): \(outcome.stdout) \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(
            (outcome.stdout + outcome.stderr).trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
            "\(what): \(outcome.stdout) \(outcome.stderr)", sourceLocation: sourceLocation)
    }

    @Test func spotNoticeIsCountedAndSetsTheDeadlineOnListenerAndTextfile() async throws {
        try await withMetricsDaemon { daemon, url, textfile in
            let before = try await MetricsScrape.scrape(url)
            #expect(before.value("imdswatch_events_total", Self.spotEvents) == 0)
            #expect(before.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 0)
            #expect(before.value("imdswatch_source_up", ["source": "spot"]) == 1)
            #expect(
                before.value("imdswatch_imds_requests_total", ["source": "spot", "result": "absent"]).map { $0 >= 1 }
                    == true)

            daemon.simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            #expect(await daemon.waitForRecords(of: .spotInterruption).count == 1)
            let after = try await scrape(url) { $0.value("imdswatch_events_total", Self.spotEvents) == 1 }
            #expect(after.value("imdswatch_events_total", Self.spotEvents) == 1)
            #expect(after.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 1_795_953_600)
            #expect(
                after.value("imdswatch_imds_requests_total", ["source": "spot", "result": "ok"]).map { $0 >= 1 } == true
            )
            try await expectPromtoolClean(after.text, "listener")

            // The textfile is rewritten at the event: it shows the same count (no wait for the 5 s period needed,
            // but allow it as a bound).
            let current = { MetricsScrape(text: (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "") }
            let file =
                await waitForValue(timeout: .seconds(60)) { () -> MetricsScrape? in
                    let file = current()
                    return file.value("imdswatch_events_total", Self.spotEvents) == 1 ? file : nil
                } ?? current()
            #expect(file.value("imdswatch_events_total", Self.spotEvents) == 1)
            #expect(file.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 1_795_953_600)
            try await expectPromtoolClean(file.text, "textfile")
            let attributes = try FileManager.default.attributesOfItem(atPath: textfile)
            #expect((attributes[.posixPermissions] as? Int) == 0o644, "node_exporter's user can read it")

            // Ending the notice puts the gauge back to 0.
            daemon.simulator.update { $0.spot = nil }
            let cleared = try await scrape(url) {
                $0.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 0
            }
            #expect(cleared.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 0)

            await daemon.process?.stop()
            let left = try FileManager.default.contentsOfDirectory(
                atPath: (textfile as NSString).deletingLastPathComponent)
            #expect(left == ["imdswatch.prom"], "no temporary file left behind")
        }
    }

    @Test func failingHookIsCountedAsFailed() async throws {
        try await withMetricsDaemon(prepare: { daemon in
            try daemon.installHook(named: "rebalance-recommendation.d/10-fail", script: "#!/bin/sh\nexit 3\n")
        }) { daemon, url, _ in
            let failed = ["type": "rebalance-recommendation", "result": "failed"]
            let ok = ["type": "rebalance-recommendation", "result": "ok"]
            #expect(try await MetricsScrape.scrape(url).value("imdswatch_hook_runs_total", failed) == 0)
            daemon.simulator.update { $0.rebalance = Self.t0 }
            let after = try await scrape(url) { $0.value("imdswatch_hook_runs_total", failed) == 1 }
            #expect(after.value("imdswatch_hook_runs_total", failed) == 1)
            #expect(after.value("imdswatch_hook_runs_total", ok) == 1, "the recording hook succeeded")
            #expect(
                after.value("imdswatch_hook_runs_total", ["type": "rebalance-recommendation", "result": "timeout"]) == 0
            )
            #expect(after.value("imdswatch_hook_duration_seconds_count", ["type": "rebalance-recommendation"]) == 2)
            #expect(after.value("imdswatch_events_total", ["type": "rebalance-recommendation"]) == 1)
            try await expectPromtoolClean(after.text, "listener after hooks")
        }
    }

    @Test func sourceAnswering500IsDownThenUpAgain() async throws {
        try await withMetricsDaemon { daemon, url, _ in
            #expect(try await MetricsScrape.scrape(url).value("imdswatch_source_up", ["source": "spot"]) == 1)
            daemon.simulator.inject(Fault.status(500, on: "meta-data/spot/instance-action"))
            let down = try await scrape(url) { $0.value("imdswatch_source_up", ["source": "spot"]) == 0 }
            #expect(down.value("imdswatch_source_up", ["source": "spot"]) == 0)
            #expect(
                down.value("imdswatch_imds_requests_total", ["source": "spot", "result": "error"]).map { $0 >= 1 }
                    == true)
            #expect(down.value("imdswatch_source_up", ["source": "rebalance"]) == 1, "only the failing source is down")
            let lastSuccess = try #require(
                down.value("imdswatch_source_last_success_timestamp_seconds", ["source": "spot"]))
            #expect(lastSuccess > 1_700_000_000)
            daemon.simulator.clearFaults()
            let up = try await scrape(url) { $0.value("imdswatch_source_up", ["source": "spot"]) == 1 }
            #expect(up.value("imdswatch_source_up", ["source": "spot"]) == 1)
            #expect(
                (up.value("imdswatch_source_last_success_timestamp_seconds", ["source": "spot"]) ?? 0) > lastSuccess)
        }
    }

    @Test func webhookRetryAndDeliveryAreCountedByEndpointWithoutSecrets() async throws {
        let receiver = try WebhookReceiver.start()
        try await receiver.script([.init(status: 500), .init(status: 200)], path: "/hook?token=tok-secret")
        let url = "http://alice:pw-secret@127.0.0.1:\(receiver.port)/hook?token=tok-secret"
        try await withMetricsDaemon(arguments: ["--webhook", url]) { daemon, metricsURL, _ in
            let endpoint = "http://127.0.0.1:\(receiver.port)/hook"
            daemon.simulator.update { $0.rebalance = Self.t0 }
            let after = try await scrape(metricsURL, timeout: .seconds(20)) {
                $0.value("imdswatch_webhook_deliveries_total", ["endpoint": endpoint, "result": "delivered"]) == 1
            }
            #expect(
                after.value("imdswatch_webhook_deliveries_total", ["endpoint": endpoint, "result": "retried"]) == 1)
            #expect(
                after.value("imdswatch_webhook_deliveries_total", ["endpoint": endpoint, "result": "delivered"]) == 1)
            #expect(after.value("imdswatch_webhook_outbox_pending") == 0)
            #expect(
                !after.text.contains("secret") && !after.text.contains("alice"), "no credentials or query in labels")
            try await expectPromtoolClean(after.text, "listener after webhooks")
        }
    }

    @Test func prometheusServerScrapesTheListener() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.prometheus),
            "prometheus missing: install Debian's prometheus package (scripts/test does)")
        try await withMetricsDaemon { daemon, url, _ in
            daemon.simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            #expect(await daemon.waitForRecords(of: .spotInterruption).count == 1)
            let target = url.replacingOccurrences(of: "http://", with: "").replacingOccurrences(
                of: "/metrics", with: "")
            let server = try await PrometheusServer.start(target: target)
            let query =
                server.baseURL + "/api/v1/query?query=imdswatch_events_total%7Btype%3D%22spot-interruption%22%7D"
            let body =
                await waitForValue(timeout: .seconds(60), every: .milliseconds(250)) { () async -> String? in
                    guard let response = try? await MetricsScrape.fetch(query), response.status == 200 else {
                        return nil
                    }
                    return response.body.contains("\"imdswatch_events_total\"") ? response.body : nil
                } ?? ""
            let serverLog = server.log()
            await server.stop()
            let json = try #require(
                try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(body)")
            #expect(json["status"] as? String == "success")
            let result = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
            #expect(result.count == 1, "\(body) / \(serverLog)")
            let metric = result.first?["metric"] as? [String: String]
            #expect(metric?["__name__"] == "imdswatch_events_total")
            #expect(metric?["type"] == "spot-interruption")
            #expect((result.first?["value"] as? [Any])?.last as? String == "1")
        }
    }

    @Test func configCheckValidatesTheMetricsTable() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-metrics-config-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = directory + "/good.toml"
        try "[metrics]\nlisten = \"0.0.0.0:9092\"\ntextfile = \"/var/lib/prometheus/node-exporter/imdswatch.prom\"\n"
            .write(toFile: good, atomically: true, encoding: .utf8)
        let ok = try await ProcessRunner.imdswatch(["config", "check", good])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(
            ok.stdout.contains(
                "  metrics: listen 0.0.0.0:9092 (not loopback), textfile /var/lib/prometheus/node-exporter/imdswatch.prom\n"
            ), "\(ok.stdout)")
        let bad = directory + "/bad.toml"
        try "interval = 2\n[metrics]\nlisten = \"127.0.0.1\"\ntextfile = \"relative.prom\"\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await ProcessRunner.imdswatch(["config", "check", bad])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(bad):3: metrics.listen: expected HOST:PORT"), "\(refused.stderr)")
        #expect(refused.stderr.contains("\(bad):4: metrics.textfile: "), "\(refused.stderr)")
        let flag = try await ProcessRunner.imdswatch(["run", "--metrics-listen", "nope"])
        #expect(flag.status != 0)
        #expect(flag.stderr.contains("--metrics-listen"), "\(flag.stderr)")
    }

    /// Root would create and rename the textfile in a directory reached through another user's symlink: refused at
    /// start with one line naming the path, as an unsafe state directory is.
    @Test func aTextfileDirectoryReachedThroughAnotherUsersSymlinkIsRefused() async throws {
        var template = Array("/tmp/imdswatch-textfile-XXXXXX".utf8CString)
        let base = String(cString: try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }))
        defer { try? FileManager.default.removeItem(atPath: base) }
        chmod(base, 0o755)
        for dir in [base + "/state", base + "/real"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        }
        chmod(base + "/real", 0o755)
        #expect(symlink(base + "/real", base + "/link") == 0)
        #expect(lchown(base + "/link", 65534, 65534) == 0)
        let config = base + "/imdswatch.toml"
        try "[metrics]\ntextfile = \"\(base)/link/imdswatch.prom\"\n".write(
            toFile: config, atomically: true, encoding: .utf8)

        let outcome = try await ProcessRunner.imdswatch(
            [
                "run", "--config", config, "--endpoint", "http://127.0.0.1:9", "--state-dir", base + "/state",
                "--hooks-dir", base + "/hooks.d", "--log-target", "stderr",
            ],
            timeout: .seconds(20)
        )
        #expect(outcome.status != 0)
        let lines = outcome.stderr.split(separator: "\n").filter {
            $0.contains("refusing to write the metrics textfile")
        }
        #expect(lines.count == 1, "\(outcome.stderr)")
        #expect(
            lines.first?.contains(
                "\(base)/link/imdswatch.prom: \(base)/link is unsafe: the symlink is owned by uid 65534") == true)
        #expect(!FileManager.default.fileExists(atPath: base + "/real/imdswatch.prom"))
    }

    @Test func shippedAlertRulesPassPromtool() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.promtool),
            "promtool missing: install Debian's prometheus package")
        let rules = Self.repositoryRoot + "/docs/metrics-alerts.rules.yml"
        let check = try await ProcessRunner.run(Self.promtool, ["check", "rules", rules])
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 5 rules found"), "\(check.stdout)")
        let test = try await ProcessRunner.run(
            Self.promtool, ["test", "rules", Self.repositoryRoot + "/docs/metrics-alerts.test.yml"])
        #expect(test.status == 0, "\(test.stdout) \(test.stderr)")
    }
}

/// A Prometheus server on loopback with a temporary storage dir, scraping one target every second.
final class PrometheusServer: Sendable {
    let process: BackgroundProcess
    let directory: String
    let baseURL: String

    private init(process: BackgroundProcess, directory: String, baseURL: String) {
        self.process = process
        self.directory = directory
        self.baseURL = baseURL
    }

    static func start(target: String) async throws -> PrometheusServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "imdswatch-prometheus-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: imdswatch
                static_configs:
                  - targets: ["\(target)"]
            """
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try FreePort.loopback()
        let process = try BackgroundProcess(
            MetricsTests.prometheus,
            [
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=info",
            ])
        let server = PrometheusServer(process: process, directory: directory, baseURL: "http://127.0.0.1:\(port)")
        guard
            await process.waitForLine(
                timeout: .seconds(60), where: { $0.contains("Server is ready to receive web requests") }) != nil
        else {
            await server.stop()
            throw MetricsTestError(
                message: "prometheus did not start: \(process.lines.suffix(20).joined(separator: "\n"))")
        }
        return server
    }

    func log() -> String { process.lines.suffix(10).joined(separator: "\n") }

    func stop() async {
        _ = await process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A free TCP port on 127.0.0.1 (bound to port 0, read back, closed) for a server that needs a port number.
enum FreePort {
    static func loopback() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MetricsTestError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw MetricsTestError(message: "bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A test setup failure (a server that did not start, a socket call that failed).
struct MetricsTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
