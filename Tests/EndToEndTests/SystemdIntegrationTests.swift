import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The daemon under systemd's protocols, for real: a running journald read back with journalctl, and a
/// NOTIFY_SOCKET bound by the test.
@Suite(.serialized) struct SystemdIntegrationTests {
    @Test func spotScenarioLandsInTheJournalWithStructuredFields() async throws {
        try JournalFixtures.ensureJournald()
        // A unique notice time gives a unique event id, so that entries of earlier runs cannot match.
        let time = Date(timeIntervalSince1970: 1_900_000_000 + Double(Int.random(in: 0..<10_000_000)))
        let hookName = "50-say-\(UInt32.random(in: 0...UInt32.max))"
        try await withSimulator { simulator in
            let daemon = try DaemonHarness(simulator: simulator, logTarget: "journal")
            do {
                try daemon.installHook(
                    named: "spot-interruption.d/\(hookName)", script: "#!/bin/sh\necho 'draining now' >&2\n")
                try await daemon.start(waitForReady: false)
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: time) }
                let records = await daemon.waitForRecords(of: .spotInterruption)
                let id = try #require(records.first?["id"]?.stringValue)

                let detection = try JournalFixtures.entries(matching: [
                    "IMDSWATCH_EVENT_ID=\(id)", "IMDSWATCH_EVENT_TYPE=spot-interruption", "PRIORITY=4",
                ])
                #expect(detection.first?["SYSLOG_IDENTIFIER"] == "imdswatch")
                #expect(detection.first?["MESSAGE"]?.contains("spot-interruption") == true)

                let hookLines = try JournalFixtures.entries(matching: ["IMDSWATCH_HOOK=\(hookName)"], minimumCount: 2)
                #expect(
                    hookLines.contains { $0["MESSAGE"]?.contains("draining now") == true }, "the hook's stderr line")
                #expect(hookLines.contains { $0["IMDSWATCH_HOOK_EXIT_STATUS"] == "0" }, "the hook's result")
                await daemon.tearDown()
            } catch {
                await daemon.tearDown()
                throw error
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func notifyProtocolReadyAfterFirstPollWatchdogStatusStopping() async throws {
        let listener = try NotifySocketListener()
        try await withSimulator { simulator in
            // A slow IMDS: the first round of polls takes about a second.
            simulator.inject(Fault.delay(1.0, on: "meta-data/", count: 5))
            let environment = listener.environment.merging(["WATCHDOG_USEC": "400000"]) { a, _ in a }
            let daemon = try DaemonHarness(simulator: simulator, environment: environment, imdsTimeout: "30")
            do {
                let started = ContinuousClock.now
                try await daemon.start(waitForReady: false)
                var messages: [String] = []
                // No deadline of its own: READY=1 is awaited however long a loaded machine makes the first round
                // (the test's time limit ends a daemon that never sends it).
                while !messages.contains(where: { $0.contains("READY=1") }) {
                    if let message = await listener.next(timeout: .seconds(1)) { messages.append(message) }
                }
                let readyAfter = ContinuousClock.now - started
                #expect(messages.contains { $0.contains("READY=1") }, "\(messages)")
                #expect(readyAfter >= .milliseconds(950), "READY=1 came before the first poll finished: \(readyAfter)")
                #expect(messages.first { $0.contains("READY=1") }?.contains("STATUS=") == true)

                let alive = await collect(from: listener, for: .seconds(1.5))
                #expect(alive.filter { $0.contains("WATCHDOG=1") }.count >= 3, "\(alive)")
                #expect(alive.contains { $0.hasPrefix("STATUS=") || $0.contains("\nSTATUS=") }, "\(alive)")

                // Stall the poll loop: every request hangs (the IMDS timeout is 30 s), so no round completes.
                simulator.inject(Fault.hang(on: "meta-data/"))
                _ = await collect(from: listener, for: .seconds(1.5))
                let stalled = await collect(from: listener, for: .seconds(1.2))
                #expect(
                    stalled.filter { $0.contains("WATCHDOG=1") }.isEmpty,
                    "pings must stop while polling is stuck: \(stalled)")

                simulator.clearFaults()
                daemon.process?.signal(SIGTERM)
                var stopping = false
                let deadline = ContinuousClock.now + .seconds(10)
                while !stopping, ContinuousClock.now < deadline, let message = await listener.next(timeout: .seconds(5))
                {
                    stopping = message.contains("STOPPING=1")
                }
                #expect(stopping)
                #expect(
                    await daemon.process?.wait(timeout: .seconds(5)) == 0,
                    "SIGTERM ends the daemon promptly even with requests hanging")
                await daemon.tearDown()
            } catch {
                await daemon.tearDown()
                throw error
            }
        }
    }

    /// Every datagram that arrives within `duration` (the daemon never falls silent, so "until quiet" would not end).
    private func collect(from listener: NotifySocketListener, for duration: Duration) async -> [String] {
        let deadline = ContinuousClock.now + duration
        var messages: [String] = []
        while ContinuousClock.now < deadline {
            if let message = await listener.next(timeout: deadline - ContinuousClock.now) { messages.append(message) }
        }
        return messages
    }
}
