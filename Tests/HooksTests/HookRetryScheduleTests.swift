import Foundation
import Retry
import Testing

@testable import Hooks

/// The hooks' waits are the package's one backoff (`RetryPolicy`), with the schedules they always had.
@Suite("Hook retry schedules")
struct HookRetryScheduleTests {
    @Test func aBusyHookIsStartedAgainAfter20msDoublingFiveTimes() {
        let policy = HookRunner.Configuration().busyRetry
        #expect(policy.maxAttempts == 6, "the first start and five more")
        let delays = (1..<policy.maxAttempts).map { policy.delay(beforeRetry: $0) }
        #expect(delays == [20, 40, 80, 160, 320].map { Duration.milliseconds($0) })
        #expect(delays.reduce(.zero, +) == .milliseconds(620))
    }

    @Test func descriptorsAreCheckedAgainAfter50msDoublingUpToOneSecond() {
        let policy = RetryPolicy.descriptorWait
        #expect(policy.maxAttempts == .max, "bounded by the hook's timeout, not by a count")
        let delays = (1...8).map { policy.delay(beforeRetry: $0) }
        #expect(delays == [50, 100, 200, 400, 800, 1000, 1000, 1000].map { Duration.milliseconds($0) })
    }

    /// docs/hooks.md states both schedules in the code's numbers.
    @Test func theDocumentedSchedulesAreTheCodes() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/hooks.md")
        let text = try String(contentsOf: docs, encoding: .utf8).replacingOccurrences(of: "\n  ", with: " ")
        let busy = HookRunner.Configuration().busyRetry
        let busyTotal = (1..<busy.maxAttempts).map { busy.backoff(beforeRetry: $0) }.reduce(.zero, +)
        let retries = [5: "five"][busy.maxAttempts - 1] ?? "\(busy.maxAttempts - 1)"
        #expect(
            text.contains(
                "tried again \(Self.milliseconds(busy.baseDelay)) ms later, doubling, \(retries) times (\(Self.milliseconds(busyTotal)) ms in all)"
            ))
        let descriptors = RetryPolicy.descriptorWait
        #expect(
            text.contains(
                "\(Self.milliseconds(descriptors.baseDelay)) ms, doubling up to \(descriptors.maxDelay.components.seconds) s"
            ))
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
