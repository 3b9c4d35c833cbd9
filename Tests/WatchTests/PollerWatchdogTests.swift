import Durability
import Events
import IMDSWatchTestKit
import Journal
import Logging
import Testing
import Watch

/// The watchdog at the daemon's default intervals (spot 1 s, rebalance and asg 5 s, maintenance and tags 60 s): a
/// round lasts 60 s, twice the unit's `WatchdogSec=30`, so a heartbeat beaten per round would let systemd kill a
/// healthy daemon. The daemon beats it per poll (`Poller`'s `onPoll`).
@Suite("Poller watchdog heartbeat", .timeLimit(.minutes(2)))
struct PollerWatchdogTests {
    /// The unit's `WatchdogSec=`.
    static let watchdogSec = Duration.seconds(30)

    @Test func pingsWithinWatchdogSecAtDefaultIntervalsAndStopsWhenTheLoopHangs() async throws {
        let clock = ManualClock()
        let reader = FakeMetadataReader(clock: clock)
        reader.set(MetadataSource.maintenance.path, "[]")
        var configuration = PollerConfiguration()
        for source in MetadataSource.allCases {
            configuration[source] = SourceSettings(enabled: true, interval: source.defaultInterval)
        }
        let directory = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(directory) }
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let journal = EventJournal(directory: directory, consumers: [], logger: logger)
        let heartbeat = Heartbeat()
        let poller = Poller(
            configuration: configuration, reader: reader, journal: journal, store: StateStore(directory: directory),
            clock: clock, logger: logger, wallClock: clock.wallClock,
            onPoll: { heartbeat.beat() }
        )
        let socket = try NotifySocketListener()
        let pinger = WatchdogPinger(
            notifier: SystemdNotifier(environment: socket.environment), heartbeat: heartbeat,
            interval: Self.watchdogSec / 2, logger: logger)
        let task = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await poller.run() }
                group.addTask { try await journal.run() }
                group.addTask { await pinger.run(clock: clock) }
            }
        }
        // A loop per source, the identity refresh and the pinger; a hanging read parks on the clock too.
        let sleepers = configuration.enabledSources.count + 2
        try #require(await clock.waitForSleepers(sleepers))
        var pings: [Duration] = []
        /// Moves the clock a second at a time, recording when each `WATCHDOG=1` was sent.
        func run(for seconds: Int) async throws {
            for _ in 0..<seconds {
                clock.advance(by: .seconds(1))
                try #require(await clock.waitForSleepers(sleepers))
                while let message = socket.receive(timeout: .zero) {
                    #expect(message == "WATCHDOG=1")
                    pings.append(clock.now.offset)
                }
            }
        }

        try await run(for: 300)
        let gaps = zip([Duration.zero] + pings, pings + [clock.now.offset]).map { $1 - $0 }
        #expect(
            gaps.allSatisfy { $0 <= Self.watchdogSec },
            "a healthy poll loop at the default intervals goes longer than WatchdogSec without a ping: \(pings)")
        #expect(pings.count == 20, "one ping per 15 s tick: \(pings)")

        // Every read hangs: the loop makes no progress, the pings stop (systemd kills it after WatchdogSec).
        reader.delay = .seconds(3600)
        try await run(for: 120)
        #expect(
            pings.allSatisfy { $0 <= .seconds(315) },
            "no ping after the tick that follows the last finished poll (at 300 s): \(pings)")

        task.cancel()
        _ = try? await task.value
    }
}
