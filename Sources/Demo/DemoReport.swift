import Events
import Foundation
import Simulator

/// The demo's header and summary: the parts of the output around the timeline.
enum DemoReport: Sendable {
    /// What runs where, and the legend of the timeline.
    static func header(simulator: IMDSSimulator, workspace: DemoWorkspace, keep: Bool, timeline: DemoTimeline) {
        let hooks = ExampleHooks.files.map(\.enabledPath).joined(separator: ", ")
        let fakes = DemoFakes.all(callsFile: "", realBinary: "").map(\.name).joined(separator: ", ")
        timeline.plain(
            """
            imdswatch demo: the watcher, the shipped example hooks and an IMDSv2 simulator, all on this machine
              simulator  \(simulator.baseURL) (loopback only; nothing is sent to 169.254.169.254)
              hooks      \(hooks)
              fakes      \(fakes): first on the hooks' PATH, they only record how they were called
              temp dir   \(workspace.root) (hooks, fakes, state, log; \(keep ? "kept: --keep" : "removed at the end"))

            timeline (seconds since start; imds = what IMDS shows now, event = what the watcher fired,
                      hook = a hook that ended, run = a command it ran (a fake), out/err = its stdout/stderr)
            """)
    }

    /// The counts, the check against the scenario, and the verdict.
    static func summary(
        _ outcome: Demo.Outcome, expected: [EventType: Int], unexpected: [Event], timeline: DemoTimeline
    ) {
        let counts = outcome.counts
        var lines = ["", "summary"]
        for type in EventType.allCases {
            let fired = counts.events[type, default: 0]
            let wanted = expected[type, default: 0]
            let mark = fired >= wanted ? "ok" : "MISSING \(wanted - fired)"
            lines.append(
                "  \(type.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)) \(fired) fired  \(mark)")
        }
        let total = counts.events.values.reduce(0, +)
        lines.append(
            "  events \(total), hooks run \(counts.hooksRun), hooks failed \(counts.hooksFailed), commands recorded \(counts.calls)"
        )
        for event in unexpected where (expected[event.type] ?? 0) < (counts.events[event.type] ?? 0) {
            lines.append("  note: also fired \(event.type.rawValue) (\(DemoTimeline.summary(of: event)))")
        }
        if outcome.succeeded {
            lines.append("demo passed: every event type fired and every hook exited 0")
        } else {
            let missing = outcome.missing.map(\.rawValue).joined(separator: ", ")
            lines.append(
                "demo FAILED:" + (missing.isEmpty ? "" : " missing \(missing);") + " hooks failed \(counts.hooksFailed)"
            )
        }
        timeline.plain(lines.joined(separator: "\n"))
    }

    /// `0.2 s`, `5 s`.
    static func seconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
