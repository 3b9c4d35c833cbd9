import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `systemctl reload` (SIGHUP) through the real daemon: the configuration is read and checked again and applied
/// without a restart; running hooks, pending deliveries and state are kept; an invalid file changes nothing.
@Suite(.serialized) struct ReloadTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600)
    static let spotPath = "meta-data/spot/instance-action"
    static let rebalancePath = "meta-data/events/recommendations/rebalance"
    static let asgPath = "meta-data/autoscaling/target-lifecycle-state"

    struct NotReady: Error, CustomStringConvertible {
        var description: String
    }

    /// A daemon run with `--config` and no `--interval` (the file's per-source intervals apply).
    struct ConfiguredDaemon {
        let harness: DaemonHarness
        let configPath: String
        let environment: [String: String]

        init(simulator: IMDSSimulator, config: String, environment: [String: String] = [:]) throws {
            harness = try DaemonHarness(simulator: simulator)
            configPath = harness.directory + "/imdswatch.toml"
            self.environment = environment.merging(["IMDSWATCH_TEST": "1"]) { a, _ in a }
            try write(config)
        }

        func write(_ config: String) throws {
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        /// Starts the daemon (with `waitForReady`, waits for its first completed round), runs `body`, stops it.
        func run(waitForReady: Bool = true, _ body: (BackgroundProcess) async throws -> Void) async throws {
            let process = try BackgroundProcess(
                ProcessRunner.imdswatchPath,
                [
                    "run", "--config", configPath, "--endpoint", harness.simulator.baseURL, "--state-dir",
                    harness.stateDir,
                    "--hooks-dir", harness.hooksDir, "--log-target", "stderr", "--imds-timeout", "0.5",
                ],
                environment: environment,
                removing: ["NOTIFY_SOCKET", "JOURNAL_STREAM", "INVOCATION_ID", "WATCHDOG_USEC"].filter {
                    environment[$0] == nil
                }
            )
            do {
                if waitForReady,
                    await process.waitForLine(
                        timeout: .seconds(30), where: { $0.contains("first round of polls finished") }) == nil
                {
                    throw NotReady(description: "daemon not ready: \(process.lines.suffix(20).joined(separator: "\n"))")
                }
                try await body(process)
            } catch {
                _ = await process.stop()
                await harness.tearDown()
                throw error
            }
            _ = await process.stop()
            await harness.tearDown()
        }

        /// Sends SIGHUP and waits for the reload's outcome line (applied or refused).
        func reload(_ process: BackgroundProcess) async -> String? {
            let before = process.lines.count
            process.signal(SIGHUP)
            return await waitForValue(timeout: .seconds(30)) {
                process.lines.dropFirst(before).first {
                    $0.contains("configuration reloaded") || $0.contains("configuration not reloaded")
                }
            }
        }
    }

    @Test func reloadAppliesIntervalsSourcesAndLogLevelKeepingStateAndProcess() async throws {
        try await withSimulator { simulator in
            let daemon = try ConfiguredDaemon(
                simulator: simulator,
                config: """
                    [log]
                    level = "info"

                    [sources.spot]
                    interval = 0.1

                    [sources.rebalance]
                    interval = 3600

                    """)
            // Stdout is logged at info, stderr above warning; the hooks of one event run in order.
            try daemon.harness.installHook(
                named: "10-say", script: "#!/bin/sh\necho \"said-for-$IMDSWATCH_EVENT_TYPE\"\n")
            try daemon.harness.installHook(
                named: "20-warn", script: "#!/bin/sh\necho \"warned-for-$IMDSWATCH_EVENT_TYPE\" >&2\n")
            try await daemon.run { process in
                let pid = process.pid

                simulator.update {
                    $0.spot = SpotNotice(action: .terminate, time: Self.t0)
                    $0.asgState = "InService"
                }
                _ = await daemon.harness.waitForRecords(of: .spotInterruption)
                #expect(
                    await eventually(timeout: .seconds(30)) {
                        process.lines.contains { $0.contains("said-for-spot-interruption") }
                    },
                    "at level info the hook's stdout is logged")

                // Warning level; rebalance every 0.1 s instead of every hour; the asg source on.
                try daemon.write(
                    """
                    [log]
                    level = "warning"

                    [sources.spot]
                    interval = 0.1

                    [sources.rebalance]
                    interval = 0.1

                    [sources.asg]
                    enabled = true
                    interval = 0.1

                    """)
                let rebalanceBefore = simulator.statistics.requests(on: Self.rebalancePath)
                // asg is off by default: not polled (at most read once for the instance's details), though IMDS serves it.
                let asgBefore = simulator.statistics.requests(on: Self.asgPath)
                #expect(asgBefore <= 1)
                let linesBefore = process.lines.count
                process.signal(SIGHUP)

                // The new intervals and sources: ten rebalance polls could not happen in an hour-long interval.
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        simulator.statistics.requests(on: Self.rebalancePath) >= rebalanceBefore + 10
                    }, "the rebalance interval changed")
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        simulator.statistics.requests(on: Self.asgPath) >= asgBefore + 10
                    },
                    "the asg source was switched on")

                // Same process, state kept: the spot notice still served does not fire again under the new poll loop.
                #expect(process.isRunning)
                #expect(process.pid == pid)
                let spotPolls = simulator.statistics.requests(on: Self.spotPath)
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        simulator.statistics.requests(on: Self.spotPath) >= spotPolls + 20
                    })
                #expect(
                    daemon.harness.records(of: .spotInterruption).count == 1,
                    "the spot notice fired once, before the reload")

                // The log level: a new event's hook runs, but its stdout (info) is no longer logged.
                simulator.update { $0.rebalance = Self.t0 }
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        process.lines.contains { $0.contains("warned-for-rebalance-recommendation") }
                    }, "the hooks ran and a warning is still logged")
                let afterReload = Array(process.lines.dropFirst(linesBefore))
                #expect(afterReload.contains { $0.contains("reloading the configuration") }, "\(afterReload)")
                #expect(!afterReload.contains { $0.contains("said-for-rebalance-recommendation") }, "\(afterReload)")
                #expect(
                    !afterReload.contains { $0.contains("configuration reloaded") }, "an info line, below the new level"
                )
                #expect(
                    !afterReload.contains { $0.contains("first round of polls finished") },
                    "the new poll loop's info line")
            }
        }
    }

    @Test func invalidFileChangesNothingAndLogsOneLineNamingKeyAndLine() async throws {
        try await withSimulator { simulator in
            let daemon = try ConfiguredDaemon(
                simulator: simulator,
                config: """
                    [sources.spot]
                    interval = 0.1

                    [sources.rebalance]
                    interval = 0.1

                    """)
            try await daemon.run { process in
                // Line 5 holds the bad value; the good-looking change on line 2 must not be applied either.
                try daemon.write(
                    """
                    [sources.spot]
                    interval = 3600

                    [sources.rebalance]
                    interval = "often"

                    """)
                let outcome = await daemon.reload(process)
                let line = try #require(outcome, "\(process.lines.suffix(20))")
                #expect(line.contains("configuration not reloaded"))
                #expect(line.contains("sources.rebalance.interval"), "names the key: \(line)")
                #expect(line.contains("imdswatch.toml:5"), "names the line: \(line)")
                #expect(process.lines.filter { $0.contains("configuration not reloaded") }.count == 1)

                // Nothing changed: spot is still polled every 0.1 s, and its events still fire.
                let spotPolls = simulator.statistics.requests(on: Self.spotPath)
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        simulator.statistics.requests(on: Self.spotPath) >= spotPolls + 10
                    })
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                #expect(await daemon.harness.waitForRecords(of: .spotInterruption, timeout: .seconds(60)).count == 1)
                #expect(process.isRunning)
            }
        }
    }

    @Test func runningHookAndPendingDeliveryOutliveReloadAndNewWebhookTakesEffect() async throws {
        let receiver = try WebhookReceiver.start()
        defer { receiver.stop() }
        // The first attempt is refused with a Retry-After that outlasts the reload: the delivery is pending during it.
        try await receiver.script([
            .init(status: 503, headers: ["Retry-After": "3"]), .init(status: 200),
        ])
        try await withSimulator { simulator in
            // Spot and rebalance every 0.1 s, and these webhooks.
            let config = { (urls: [String]) in
                "[sources.spot]\ninterval = 0.1\n\n[sources.rebalance]\ninterval = 0.1\n"
                    + urls.map { "\n[[webhook]]\nurl = \"\($0)\"\n" }.joined()
            }
            let daemon = try ConfiguredDaemon(simulator: simulator, config: config([receiver.url()]))
            let release = daemon.harness.directory + "/release"
            let marks = daemon.harness.directory + "/marks"
            try daemon.harness.installHook(
                named: "spot-interruption.d/50-slow",
                script: """
                    #!/bin/sh
                    echo started >> "\(marks)"
                    while [ ! -e "\(release)" ]; do sleep 0.05; done
                    echo finished >> "\(marks)"
                    """)
            try await daemon.run { process in
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                let spotID = try #require(
                    await daemon.harness.waitForRecords(of: .spotInterruption).first?["id"]?.stringValue)
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        (try? String(contentsOfFile: marks, encoding: .utf8))?.contains("started") == true
                    })
                let refused = try await receiver.waitForRequests(1, timeout: .seconds(60))
                #expect(refused.first?.header("X-Imdswatch-Delivery") == spotID)

                // A second webhook, while the hook runs and the delivery waits for its retry.
                try daemon.write(config([receiver.url(), receiver.url("/second")]))
                let outcome = await daemon.reload(process)
                #expect(outcome?.contains("configuration reloaded") == true, "\(process.lines.suffix(20))")

                // The running hook was not interrupted: released after the reload, it finishes.
                _ = FileManager.default.createFile(atPath: release, contents: nil)
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        (try? String(contentsOfFile: marks, encoding: .utf8))?.contains("finished") == true
                    })
                // The pending delivery still happens, once.
                let delivered = try await receiver.waitForRequests(2, timeout: .seconds(60))
                #expect(delivered.filter { $0.header("X-Imdswatch-Delivery") == spotID }.map(\.status) == [503, 200])
                // The new webhook gets the next event.
                simulator.update { $0.rebalance = Self.t0 }
                let second = try await receiver.waitForRequests(1, path: "/second", timeout: .seconds(60))
                #expect(second.first?.header("X-Imdswatch-Event") == "rebalance-recommendation")
                #expect(daemon.harness.records(of: .spotInterruption).count == 1)
                #expect(process.isRunning)
            }
        }
    }

    /// A reload that adds `[metrics]` starts the textfile, and polls and events are counted from then on (the series
    /// exist at 0 from the start). The registry the daemon keeps for such a reload records nothing while metrics are
    /// off, so that not configuring metrics costs no poll anything (`bench/run`'s instructions per cycle): the polls
    /// made before the reload are not in the count.
    @Test func reloadThatAddsMetricsCountsFromTheReloadOn() async throws {
        try await withSimulator { simulator in
            let daemon = try ConfiguredDaemon(simulator: simulator, config: "[sources.spot]\ninterval = 0.1\n")
            let textfileDirectory = daemon.harness.directory + "/metrics"
            try FileManager.default.createDirectory(atPath: textfileDirectory, withIntermediateDirectories: true)
            let textfile = textfileDirectory + "/imdswatch.prom"
            try await daemon.run { process in
                // Polls while metrics are off.
                #expect(
                    await eventually(timeout: .seconds(60)) { simulator.statistics.requests(on: Self.spotPath) >= 30 })
                try daemon.write("[sources.spot]\ninterval = 0.1\n\n[metrics]\ntextfile = \"\(textfile)\"\n")
                let before = simulator.statistics.requests(on: Self.spotPath)
                let outcome = await daemon.reload(process)
                #expect(outcome?.contains("configuration reloaded") == true, "\(outcome ?? "no outcome line")")

                simulator.update { $0.spot = SpotNotice(action: .terminate, time: Self.t0) }
                #expect(await daemon.harness.waitForRecords(of: .spotInterruption).count == 1)
                // The textfile is rewritten at the event; the simulator's count is read as soon as the file shows it.
                let read = { MetricsScrape(text: (try? String(contentsOfFile: textfile, encoding: .utf8)) ?? "") }
                let spotEvents = ["type": "spot-interruption"]
                let (file, after) =
                    await waitForValue(timeout: .seconds(60)) { () -> (MetricsScrape, Int)? in
                        let file = read()
                        let served = simulator.statistics.requests(on: Self.spotPath)
                        return file.value("imdswatch_events_total", spotEvents) == 1 ? (file, served) : nil
                    } ?? (read(), simulator.statistics.requests(on: Self.spotPath))
                #expect(file.value("imdswatch_events_total", spotEvents) == 1, "\(file.text)")
                #expect(file.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 1_795_953_600)
                let counted = ["ok", "absent", "error"].compactMap {
                    file.value("imdswatch_imds_requests_total", ["source": "spot", "result": $0])
                }.reduce(0, +)
                #expect(counted >= 1, "the polls after the reload are counted")
                #expect(
                    counted <= Double(after - before),
                    "\(Int(counted)) spot polls counted, \(after - before) made since the reload: those made while metrics were off were recorded"
                )
                #expect(process.isRunning)
            }
        }
    }

    @Test func notifySocketGetsReloadingWithMonotonicTimeThenReady() async throws {
        let listener = try NotifySocketListener()
        try await withSimulator { simulator in
            let daemon = try ConfiguredDaemon(
                simulator: simulator,
                config: """
                    [sources.spot]
                    interval = 0.1

                    """, environment: listener.environment)
            try await daemon.run(waitForReady: false) { process in
                #expect(
                    await waitForValue(timeout: .seconds(30)) {
                        await listener.next(timeout: .seconds(1)).flatMap { $0.contains("READY=1") ? $0 : nil }
                    } != nil)
                _ = listener.drain()

                for config in ["[sources.spot]\ninterval = 0.2\n", "[sources.spot]\ninterval = \"never\"\n"] {
                    try daemon.write(config)
                    let before = Self.monotonicMicroseconds()
                    process.signal(SIGHUP)
                    var messages: [String] = []
                    while !messages.contains(where: { $0.split(separator: "\n").contains("READY=1") }),
                        let message = await listener.next(timeout: .seconds(30))
                    {
                        messages.append(message)
                    }
                    let after = Self.monotonicMicroseconds()
                    let reloading = try #require(
                        messages.firstIndex { $0.split(separator: "\n").contains("RELOADING=1") }, "\(messages)")
                    let ready = try #require(
                        messages.firstIndex { $0.split(separator: "\n").contains("READY=1") }, "\(messages)")
                    #expect(reloading < ready, "RELOADING=1 comes first: \(messages)")
                    let stamp = messages[reloading].split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }
                    let value = try #require(
                        stamp.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) }, "\(messages)")
                    #expect(
                        value >= before && value <= after,
                        "CLOCK_MONOTONIC at the reload: \(value) not in \(before)...\(after)")
                    #expect(!messages.contains { $0.contains("STOPPING=1") }, "a reload is not a stop: \(messages)")
                }
                #expect(process.isRunning)
            }
        }
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }
}
