import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// The fault-injection suites (`FaultInjection*.swift`), one at a time: each runs a real daemon whose timing, memory
/// and fds it measures, so they never share the machine with each other.
@Suite(.serialized) enum FaultInjection {}

/// Shared by the `FaultInjection*` suites: the real daemon at `--interval 0.05`, a probe on its memory and fds, and
/// the checks every fault shares (keeps polling, fires nothing false, loses nothing, stays flat, logs once).
enum FaultKit {
    static let t0 = Date(timeIntervalSince1970: 1_795_953_600) // 2026-11-29T12:00:00Z
    static let spotPath = "meta-data/spot/instance-action"

    /// The default simulator state: in an Auto Scaling group, so that the first round fires one
    /// `asg-lifecycle-state` (which warms up the hook machinery before any baseline is taken).
    static var inService: SimulatorState {
        var state = SimulatorState()
        state.asgState = "InService"
        return state
    }

    /// Runs `body` with a started daemon (interval 0.05 s) and always tears both down; `prepare` runs before the
    /// daemon starts (mounts, config files), `cleanup` after it stopped, in both paths. When the state has an ASG
    /// state, `body` starts once its first-run event's hook has run (the first hook run opens the subprocess
    /// monitor's descriptors, once per process: a baseline taken before it would see them as growth).
    static func withDaemon(
        state: SimulatorState = inService,
        arguments: [String] = [],
        imdsTimeout: String = "0.5",
        prepare: (DaemonHarness) throws -> Void = { _ in },
        cleanup: @escaping (DaemonHarness) -> Void = { _ in },
        _ body: (DaemonHarness) async throws -> Void
    ) async throws {
        try await withSimulator(state: state) { simulator in
            let harness = try DaemonHarness(
                simulator: simulator, arguments: ["--interval", "0.05"] + arguments,
                imdsTimeout: imdsTimeout)
            do {
                try prepare(harness)
                try await harness.start()
                if state.asgState != nil {
                    try #require(await harness.waitForRecords(of: .asgLifecycleState).count == 1)
                    try await Task.sleep(for: .milliseconds(300))
                }
                try await body(harness)
                await harness.process?.stop()
                cleanup(harness)
                await harness.tearDown()
            } catch {
                await harness.process?.stop()
                cleanup(harness)
                await harness.tearDown()
                throw error
            }
        }
    }

    /// The daemon's VmRSS, VmHWM and fd count now.
    static func sample(_ daemon: DaemonHarness) throws -> ProcessProbe.Sample {
        let pid = try #require(daemon.process?.pid)
        return try #require(ProcessProbe.sample(pid), "the daemon (pid \(pid)) is gone")
    }

    /// Memory and fds stayed flat between two samples: at most `fds` more descriptors (fewer is fine: a fault that
    /// closes kept-alive connections lowers the count), RSS grown by less than `rssKiB`. `inFlight` more sockets are
    /// allowed when the samples are taken while requests are in flight (a hang keeps one connection per source
    /// open at any time, more or fewer depending on the instant); descriptors other than sockets still get `fds`.
    static func expectFlat(
        _ before: ProcessProbe.Sample, _ after: ProcessProbe.Sample, fds: Int = 2, inFlight: Int = 0,
        rssKiB: Int = 4096,
        _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let others = (after.openFDs - after.sockets) - (before.openFDs - before.sockets)
        #expect(others <= fds, "\(what): \(before) -> \(after)", sourceLocation: sourceLocation)
        #expect(
            after.openFDs - before.openFDs <= fds + inFlight, "\(what): \(before) -> \(after)",
            sourceLocation: sourceLocation)
        #expect(after.rssKiB - before.rssKiB < rssKiB, "\(what): \(before) -> \(after)", sourceLocation: sourceLocation)
    }

    /// Requests the simulator has seen on `path` (relative to `/latest/`).
    static func requests(_ daemon: DaemonHarness, on path: String = spotPath) -> Int {
        daemon.simulator.statistics.requests(on: path)
    }

    /// Waits until `path` has seen `count` more requests than `from` (the daemon kept polling it).
    /// - Returns: Whether it did within `timeout`.
    @discardableResult
    static func waitForPolls(
        _ daemon: DaemonHarness, _ count: Int, after from: Int, on path: String = spotPath,
        timeout: Duration = .seconds(10)
    ) async -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(25)) { requests(daemon, on: path) - from >= count }
    }

    /// Log lines (stderr) since `index` that contain `text`.
    static func lines(_ daemon: DaemonHarness, containing text: String, from index: Int = 0) -> [String] {
        let all = daemon.process?.lines ?? []
        return all.dropFirst(index).filter { $0.contains(text) }
    }

    /// How many log lines the daemon has written so far (an index for ``lines(_:containing:from:)``).
    static func lineCount(_ daemon: DaemonHarness) -> Int { daemon.process?.lines.count ?? 0 }

    /// Waits for a log line containing `text` after `index`.
    @discardableResult
    static func waitForLine(
        _ daemon: DaemonHarness, containing text: String, from index: Int = 0,
        timeout: Duration = .seconds(10)
    ) async -> String? {
        await waitForValue(timeout: timeout, every: .milliseconds(25)) {
            lines(daemon, containing: text, from: index).first
        }
    }

    /// Records per event type.
    static func counts(_ daemon: DaemonHarness) -> [String: Int] {
        Dictionary(grouping: daemon.records(), by: { $0["type"]?.stringValue ?? "" }).mapValues(\.count)
    }

    /// Runs a command to completion (mount, dd, …) and fails the test when it exits non-zero and `check` is set.
    @discardableResult
    static func shell(_ command: String, check: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ProcessRunner.Outcome
    {
        let outcome = try ProcessRunner.runBlocking("/bin/sh", ["-c", command], timeout: .seconds(20))
        if check {
            #expect(outcome.status == 0, "\(command): \(outcome.stderr)", sourceLocation: sourceLocation)
        }
        return outcome
    }
}
