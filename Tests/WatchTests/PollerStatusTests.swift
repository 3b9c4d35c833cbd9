import Events
import IMDS
import Testing

@testable import Watch

@Suite struct PollerStatusTests {
    private func status(failing errors: [MetadataSource: String]) -> PollerStatus {
        let sources = MetadataSource.allCases.map { source in
            let observation: Observation? =
                errors[source].map {
                    .failed(
                        IMDSError(code: .unreachable, path: source.path, endpoint: "http://127.0.0.1:9", message: $0))
                } ?? .absent
            return SourceStatus(
                source: source, enabled: true, lastPollMilliseconds: 0, lastObservation: observation,
                consecutiveFailures: errors[source] == nil ? 0 : 1, notConfigured: false)
        }
        return PollerStatus(completedRounds: 1, sources: sources, instance: .unknown, identityError: nil)
    }

    @Test func sourcesFailingForTheSameReasonShareOneMention() {
        let reason = "cannot reach IMDS at http://127.0.0.1:9 (connection refused): not on EC2, or wrong endpoint"
        let all = Dictionary(uniqueKeysWithValues: MetadataSource.allCases.map { ($0, reason) })
        let summary = status(failing: all).summary
        #expect(summary == "IMDS failing for 5 of 5 sources: spot, rebalance, maintenance, asg, tags: \(reason)")
    }

    @Test func differentReasonsAreListedEach() {
        let summary = status(failing: [.spot: "timed out", .tags: "403", .asg: "timed out"]).summary
        #expect(summary == "IMDS failing for 3 of 5 sources: spot, asg: timed out; tags: 403")
    }
}
