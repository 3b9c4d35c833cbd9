import Events
import IMDSWatchTestKit
import Testing
import Watch

@Suite("Scheduling", .timeLimit(.minutes(1)))
struct SchedulingTests {
    typealias Instant = ManualClock.Instant

    static func at(_ milliseconds: Int) -> Instant { Instant(offset: .milliseconds(milliseconds)) }

    @Test func nextDueIsPreviousDuePlusInterval() {
        let next = Poller<ManualClock>.nextDue(after: Self.at(0), interval: .seconds(2), now: Self.at(300))
        #expect(next == Self.at(2000))
    }

    @Test func nextDueSkipsMissedSlots() {
        #expect(
            Poller<ManualClock>.nextDue(after: Self.at(0), interval: .seconds(2), now: Self.at(5000)) == Self.at(6000))
        #expect(
            Poller<ManualClock>.nextDue(after: Self.at(0), interval: .seconds(2), now: Self.at(6000)) == Self.at(8000))
        #expect(
            Poller<ManualClock>.nextDue(after: Self.at(0), interval: .milliseconds(50), now: Self.at(1001))
                == Self.at(1050))
    }

    @Test func pollsStartToStartWithoutDrift() async {
        let harness = PollerHarness(sources: [.spot])
        harness.reader.setDelay(.milliseconds(300), for: MetadataSource.spot.path)
        await harness.start()
        await harness.advance(by: .seconds(20))
        await harness.stop()
        #expect(
            harness.reader.reads(of: MetadataSource.spot.path)
                == stride(from: 0, through: 20, by: 2).map { Duration.seconds($0) })
    }

    @Test func slowPollsSkipMissedSlotsRatherThanBurst() async {
        let harness = PollerHarness(sources: [.spot])
        harness.reader.setDelay(.seconds(5), for: MetadataSource.spot.path)
        await harness.start()
        await harness.advance(by: .seconds(20), step: .milliseconds(500))
        await harness.stop()
        #expect(harness.reader.reads(of: MetadataSource.spot.path) == [.zero, .seconds(6), .seconds(12), .seconds(18)])
    }

    @Test func intervalsAreClampedToTheMinimum() {
        #expect(PollerConfiguration(interval: .milliseconds(1))[.spot].interval == .milliseconds(50))
        var configuration = PollerConfiguration()
        configuration[.tags] = .init(enabled: false, interval: .zero)
        #expect(configuration[.tags].interval == .milliseconds(50))
        #expect(configuration.enabledSources == [.spot, .rebalance, .maintenance, .asg])
    }
}
