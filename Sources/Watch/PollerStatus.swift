import Events
import IMDS

/// One source's health, for `STATUS=` and logs.
package struct SourceStatus: Sendable, Equatable {
    /// The source.
    package var source: MetadataSource
    /// Whether it is polled.
    package var enabled: Bool
    /// When the last poll finished, in milliseconds since the Unix epoch; `nil` before the first.
    package var lastPollMilliseconds: Int64?
    /// What the last poll found; `nil` before the first.
    package var lastObservation: Observation?
    /// Consecutive failed polls (0 when the last poll answered).
    package var consecutiveFailures: Int
    /// True while the path is absent by design (not in an Auto Scaling group, tags not enabled) and polled slowly.
    package var notConfigured: Bool

    /// True when the last poll failed.
    package var isFailing: Bool { consecutiveFailures > 0 }
}

/// A snapshot of the poll loop.
package struct PollerStatus: Sendable, Equatable {
    /// Rounds completed: a round completes when every enabled source has been polled once since the last one.
    package var completedRounds: Int
    /// Every source, spot first.
    package var sources: [SourceStatus]
    /// The instance events are attributed to (``InstanceInfo/unknown`` until the identity document is read).
    package var instance: InstanceInfo
    /// The identity document's last read error, when its last read failed.
    package var identityError: IMDSError?

    /// The enabled sources whose last poll failed.
    package var failingSources: [MetadataSource] {
        sources.filter { $0.enabled && $0.isFailing }.map(\.source)
    }

    /// True when at least one enabled source answered (a value or a 404) at its last poll.
    package var imdsAnswered: Bool {
        sources.contains { status in
            switch status.lastObservation {
            case .value?, .absent?: true
            default: false
            }
        }
    }

    /// One line for systemd's `STATUS=`, e.g. `5 sources OK, round 12` or `IMDS failing: spot (…), asg (…)`.
    package var summary: String {
        let enabled = sources.filter(\.enabled)
        let failing = enabled.filter(\.isFailing)
        if enabled.isEmpty { return "no source enabled" }
        if failing.isEmpty {
            return "\(enabled.count) source\(enabled.count == 1 ? "" : "s") OK, round \(completedRounds)"
        }
        // Sources failing for the same reason share one mention of it (usually all of them: IMDS is unreachable).
        var reasons: [(message: String, sources: [String])] = []
        for status in failing {
            let message = status.lastObservation?.error?.message ?? "failing"
            if let index = reasons.firstIndex(where: { $0.message == message }) {
                reasons[index].sources.append(status.source.rawValue)
            } else {
                reasons.append((message, [status.source.rawValue]))
            }
        }
        let text = reasons.map { "\($0.sources.joined(separator: ", ")): \($0.message)" }.joined(separator: "; ")
        return "IMDS failing for \(failing.count) of \(enabled.count) sources: " + text
    }
}
