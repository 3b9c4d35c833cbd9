import Events
import Foundation
import Synchronization

/// What the demo prints: one line per happening, with the seconds since the demo started, and the counts the
/// summary reports. Thread-safe: the scenario driver, the event recorder and the log handler write to it concurrently.
final class DemoTimeline: Sendable {
    /// The kind of a line, printed as its label.
    enum Kind: String, Sendable {
        /// What IMDS (the simulator) shows now.
        case imds = "imds "
        /// An event the watcher fired.
        case event = "event"
        /// A hook that ended.
        case hook = "hook "
        /// A fake command a hook called.
        case call = "  run"
        /// A line a hook wrote to stdout.
        case stdout = "  out"
        /// A line a hook wrote to stderr.
        case stderr = "  err"
        /// Something about the demo itself.
        case demo = "demo "
        /// A call imdswatch made to the (simulated) Auto Scaling API: heartbeats, the completion.
        case aws = "aws  "
    }

    /// The counts behind the summary.
    struct Counts: Sendable, Equatable {
        /// Events fired, by type.
        var events: [EventType: Int] = [:]
        /// Hooks that ran.
        var hooksRun = 0
        /// Hooks that did not exit 0 (or timed out, or could not start).
        var hooksFailed = 0
        /// Fake command calls recorded.
        var calls = 0
    }

    private struct State {
        var counts = Counts()
    }

    private let start: ContinuousClock.Instant
    private let state = Mutex(State())
    private let calls: DemoCallsReader
    private let output: @Sendable (String) -> Void

    /// Creates a timeline starting now.
    /// - Parameters:
    ///   - callsFile: The file the fakes record their calls in (see ``DemoFakes``).
    ///   - output: Receives each finished line (default: stdout, flushed).
    init(callsFile: String, output: @escaping @Sendable (String) -> Void = DemoTimeline.printLine) {
        self.start = .now
        self.calls = DemoCallsReader(path: callsFile)
        self.output = output
    }

    /// Prints a line: `  1.23s  event  text`.
    func log(_ kind: Kind, _ text: String) {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let line = String(format: "%6.2f", seconds) + "s  \(kind.rawValue)  \(text)"
        state.withLock { _ in output(line) }
    }

    /// Prints a line with no timestamp (headers, the summary).
    func plain(_ text: String) {
        state.withLock { _ in output(text) }
    }

    /// Records and prints a fired event.
    func fired(_ event: Event) {
        state.withLock { $0.counts.events[event.type, default: 0] += 1 }
        log(.event, "\(event.type.rawValue)  id \(event.id.prefix(12))…  \(DemoTimeline.summary(of: event))")
    }

    /// Records and prints a hook's result, after the calls it made.
    /// - Parameters:
    ///   - relativePath: The hook's path relative to `hooks.d`.
    ///   - succeeded: Whether it exited 0.
    ///   - summary: How it ended, as the hook runner logged it (`exit status 0 in 0.01 s`).
    func hookEnded(_ relativePath: String, succeeded: Bool, summary: String) {
        flushCalls()
        state.withLock {
            $0.counts.hooksRun += 1
            if !succeeded { $0.counts.hooksFailed += 1 }
        }
        log(.hook, "\(relativePath): \(succeeded ? "ok" : "FAILED"), \(summary)")
    }

    /// Prints a line a hook wrote, after the calls it made so far (so that `run` lines come before the hook's
    /// own report of what it did).
    func hookOutput(_ hook: String, stream: Kind, _ text: String) {
        flushCalls()
        log(stream, "\(hook): \(text)")
    }

    /// Records and prints the fake commands' calls not printed yet.
    func flushCalls() {
        for commandLine in calls.drain() {
            state.withLock { $0.counts.calls += 1 }
            log(.call, commandLine)
        }
    }

    /// The counts so far.
    var counts: Counts {
        state.withLock { $0.counts }
    }

    /// The key data of an event in a few words: `state InService (was none)`, `terminate at 2026-…`.
    static func summary(of event: Event) -> String {
        switch event.detail {
        case .spotInterruption(let notice):
            return "action \(notice.action) at \(notice.time)"
        case .rebalanceRecommendation(let notice):
            return "notice time \(notice.noticeTime)"
        case .maintenanceScheduled(let notice), .maintenanceCleared(let notice):
            return "\(notice.eventID) \(notice.code) from \(notice.notBefore) (\(notice.state))"
        case .maintenanceChanged(let notice, let previous):
            return "\(notice.eventID) from \(notice.notBefore) (was \(previous.notBefore))"
        case .asgLifecycleState(let change):
            return "state \(change.state) (was \(change.previousState ?? "none"))"
        case .tagsChanged(let changes):
            let parts: [(String, JSONValue?)] = [
                ("added", changes.added.isEmpty ? nil : Tag.json(changes.added)),
                ("removed", changes.removed.isEmpty ? nil : Tag.json(changes.removed)),
                ("changed", changes.changed.isEmpty ? nil : TagChange.json(changes.changed)),
            ]
            return parts.compactMap { key, value in value.map { "\(key) \($0.serialized())" } }.joined(separator: ", ")
        }
    }

    /// Writes a line to stdout and flushes it, so that the timeline appears as it happens even through a pipe.
    @Sendable static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
