import AWS
import Foundation
import HTTP
import IMDS
import Lifecycle
import Retry
import Testing

/// docs/autoscaling.md states the retry schedule and the timeout bound the code uses, in the code's numbers.
@Suite("Auto Scaling docs")
struct AutoScalingDocsTests {
    static let doc: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/autoscaling.md"), encoding: .utf8)) ?? ""
    }()

    /// Whole seconds, or a decimal for fractions ("0.5").
    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }

    @Test func theRetryScheduleIsTheCodes() {
        let retry = AutoScalingClient.Configuration.defaultRetry
        let text = Self.doc.replacingOccurrences(of: "\n  ", with: " ")
        #expect(
            text.contains(
                "retried after \(Self.seconds(retry.baseDelay)) s, doubling, at most \(Self.seconds(retry.maxDelay)) s, each with full jitter"
            ))
        #expect(text.contains("Heartbeats and the group lookup make \(retry.maxAttempts) attempts"))
        #expect(
            text.contains(
                "without it, \(PendingLifecycleAction.longestHeartbeatTimeout) s, the longest `HeartbeatTimeout` AWS allows"
            ))
        #expect(!text.contains("every 30 s"), "the old fixed 30 s rounds are gone")
    }
}
