import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The daemon when its open descriptors run out: another user holding connections to the `/metrics` listener, or a
/// descriptor limit reached at the moment of an event. Nothing traps, nothing marked fired is lost.
@Suite("Hostile descriptors", .serialized)
struct HostileDescriptorTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29T12:00:00Z
    static let systemdEnvironment = ["NOTIFY_SOCKET", "JOURNAL_STREAM", "INVOCATION_ID", "WATCHDOG_USEC"]

    /// Opens `count` TCP connections to `127.0.0.1:PORT` and holds them (never reads, never reconnects), printing
    /// `held N` once all connects returned.
    static let holder = """
        import socket, sys, time
        port, count = int(sys.argv[1]), int(sys.argv[2])
        held = []
        for _ in range(count):
            s = socket.socket()
            s.settimeout(30)
            try:
                s.connect(("127.0.0.1", port))
                held.append(s)
            except OSError as error:
                print("connect failed:", error, flush=True)
        print("held", len(held), flush=True)
        time.sleep(3600)
        """

    /// The daemon's open descriptors.
    static func descriptors(of pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count ?? 0
    }

    /// This process's hard limit on open files (the daemon may raise its soft limit up to it).
    static func hardLimit() -> UInt64 {
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return UInt64(limit.rlim_max)
    }

    /// The `/metrics` URL the daemon logged.
    static func metricsURL(_ process: BackgroundProcess) async throws -> String {
        let line = try #require(
            await process.waitForLine(timeout: .seconds(30)) { $0.contains("metrics listening on http://127.0.0.1:") })
        let start = try #require(line.range(of: "http://127.0.0.1:"))
        return String(line[start.lowerBound...].prefix { !$0.isWhitespace && $0 != "\"" })
    }

    static func port(of url: String) -> Int {
        Int(url.dropFirst("http://127.0.0.1:".count).prefix { $0.isNumber }) ?? 0
    }

    /// The reproduction: systemd's default soft limit (1024), 1000 idle connections to the listener from
    /// uid 65534, then a spot notice. The spot hooks run, the daemon lives, a scrape is served again once the idle
    /// connections timed out, and nothing is left pending.
    @Test func aThousandIdleMetricsConnectionsFromAnotherUserStarveNoSpotNotice() async throws {
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator, arguments: ["--metrics-listen", "127.0.0.1:0"])
            defer { try? FileManager.default.removeItem(atPath: daemon.directory) }
            let process = try BackgroundProcess(
                "/usr/bin/prlimit",
                ["--nofile=1024:\(Self.hardLimit())", "--", ProcessRunner.imdswatchPath] + daemon.arguments,
                environment: ["IMDSWATCH_TEST": "1"], removing: Self.systemdEnvironment
            )
            defer { process.signal(SIGKILL) }
            try #require(
                await process.waitForLine(timeout: .seconds(60)) { $0.contains("first round of polls finished") }
                    != nil,
                "\(process.lines.suffix(20))")
            let url = try await Self.metricsURL(process)

            let holder = try BackgroundProcess(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", Self.holder,
                    String(Self.port(of: url)), "1000",
                ]
            )
            defer { holder.signal(SIGKILL) }
            try #require(
                await holder.waitForLine(timeout: .seconds(300)) { $0.hasPrefix("held ") } != nil, "\(holder.lines)")
            // The daemon has taken what it takes of them: without a cap, nearly all of its 1024 descriptors.
            try #require(
                await eventually(timeout: .seconds(120)) {
                    Self.descriptors(of: process.pid) >= 1000
                        || process.lines.contains { $0.contains("connections open, its limit") }
                })

            simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            let records = await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(60))
            #expect(records.count == 1, "the spot hooks ran: \(process.lines.suffix(10))")
            #expect(process.isRunning)
            #expect(
                !process.lines.contains { $0.lowercased().contains("too many open files") },
                "\(process.lines.filter { $0.lowercased().contains("too many") }.prefix(3))")

            // The held connections time out (the holder never closes them): a scrape is served again.
            let scraped = await eventually(timeout: .seconds(120), every: .milliseconds(200)) {
                (try? await MetricsScrape.scrape(url))?.value("imdswatch_events_total", ["type": "spot-interruption"])
                    == 1
            }
            #expect(scraped, "a scrape is served while the other user still thinks it holds 1000 connections")
            #expect(holder.isRunning)

            #expect(await process.stop(timeout: .seconds(30)) == 0, "\(process.lines.suffix(10))")
            let pending =
                (try? FileManager.default.contentsOfDirectory(atPath: daemon.stateDir + "/hooks-pending")) ?? []
            #expect(pending.isEmpty, "nothing left pending: \(pending)")
            #expect(daemon.records(of: .spotInterruption).count == 1)
        }
    }

    /// A descriptor limit reached at the moment of a spot notice, with a webhook configured: the daemon's limit is
    /// lowered to what it holds plus two (the soft limit: raising a hard limit again needs CAP_SYS_RESOURCE), held connections to the listener take those two, then the notice comes.
    /// The daemon neither traps nor loses the event: once descriptors are back, its hooks run and the webhook is
    /// delivered.
    @Test func descriptorsExhaustedAtASpotNoticeDelayButLoseNothing() async throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(
                simulator: simulator, arguments: ["--metrics-listen", "127.0.0.1:0", "--webhook", receiver.url()])
            let process = try await daemon.start()
            defer { process.signal(SIGKILL) }
            let url = try await Self.metricsURL(process)
            let pid = process.pid

            let open = Self.descriptors(of: pid)
            let lowered = try await ProcessRunner.run(
                "/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=\(open + 2):\(Self.hardLimit())"])
            try #require(lowered.status == 0, "\(lowered.stderr)")
            let holder = try BackgroundProcess(
                "/usr/bin/python3", ["-c", Self.holder, String(Self.port(of: url)), "16"])
            defer { holder.signal(SIGKILL) }
            try #require(
                await holder.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("held ") } != nil, "\(holder.lines)")
            try #require(await eventually(timeout: .seconds(60)) { Self.descriptors(of: pid) >= open + 2 })

            simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
            let starved = await process.waitForLine(timeout: .seconds(60)) {
                $0.lowercased().contains("too many open files")
            }
            #expect(starved != nil, "the notice met the exhausted descriptors: \(process.lines.suffix(10))")
            // The webhook's first attempt is made while they are still exhausted.
            let attempted = await process.waitForLine(timeout: .seconds(60)) { $0.contains("webhook delivery failed") }
            #expect(attempted != nil, "\(process.lines.suffix(10))")
            #expect(process.isRunning, "no trap: \(process.lines.suffix(15))")

            // Descriptors are back: the limit restored, the held connections gone.
            let restored = try await ProcessRunner.run(
                "/usr/bin/prlimit", ["--pid", "\(pid)", "--nofile=1024:\(Self.hardLimit())"])
            try #require(restored.status == 0, "\(restored.stderr)")
            holder.signal(SIGKILL)

            let records = await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(120))
            #expect(
                records.count == 1,
                "the spot hooks ran once descriptors were back: \(process.lines.suffix(40).joined(separator: "\n"))")
            let delivered = try await receiver.waitForRequests(1, timeout: .seconds(120))
            #expect(delivered.contains { $0.bodyText.contains("spot-interruption") }, "the webhook was delivered")
            #expect(process.isRunning, "no trap: \(process.lines.suffix(15))")
            #expect(await process.stop(timeout: .seconds(30)) == 0, "\(process.lines.suffix(10))")
            await daemon.tearDown()
        }
    }

    /// `hooks test` under every descriptor limit from 8 to 40: swift-subprocess traps (SIGILL, `FileDescriptor … was
    /// not closed`) when one of a spawn's pipes cannot be made, so the runner never spawns short of descriptors; and
    /// libdispatch's worker-pool monitor traps (SIGILL) when it cannot open `/proc/self/task/TID/stat`, which happened
    /// at limits 11 and 12 (the runtime alone holds about 12), so a limit below `DescriptorLimit.floor` (32) is
    /// refused with one line. At each limit the command ends by itself, with a result, never by a signal.
    @Test func aHookStartShortOfDescriptorsNeverTraps() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("imdswatch-fd-\(UUID().uuidString)")
            .path
        let hooks = base + "/hooks.d"
        try FileManager.default.createDirectory(atPath: hooks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try "#!/bin/sh\ncat >/dev/null\necho ran\n".write(toFile: hooks + "/10-ran", atomically: true, encoding: .utf8)
        chmod(hooks + "/10-ran", 0o755)

        var ran = 0
        for limit in 8...40 {
            let outcome = try await ProcessRunner.run(
                "/usr/bin/prlimit",
                [
                    "--nofile=\(limit):\(limit)", "--", ProcessRunner.imdswatchPath, "hooks", "test",
                    "spot-interruption",
                    "--hooks-dir", hooks, "--hook-timeout", "1",
                ],
                timeout: .seconds(60)
            )
            let output = outcome.stdout + outcome.stderr
            #expect(
                outcome.status == 0 || outcome.status == 1,
                "limit \(limit): status \(outcome.status): \(output.suffix(400))")
            #expect(!output.contains("Fatal error"), "limit \(limit): \(output.suffix(400))")
            let refused = "imdswatch: the open-file limit (RLIMIT_NOFILE) is \(limit), below the 32 imdswatch needs"
            #expect(output.contains(refused) == (limit < 32), "limit \(limit): \(output.suffix(400))")
            if output.contains("10-ran: ok") { ran += 1 }
        }
        #expect(ran == 9, "with enough descriptors (32 to 40) the hook runs")
    }
}
