import Durability
import Events
import IMDS
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Synchronization
import Testing
import Watch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A poller wired to a fake IMDS, a manual clock, a recording sink, an in-memory log and a temporary state dir.
final class PollerHarness: Sendable {
    let clock = ManualClock()
    let reader: FakeMetadataReader
    let sink = RecordingSink()
    let logs = InMemoryLogHandler()
    let directory: String
    let configuration: PollerConfiguration
    let roundReportInterval: Duration?
    /// How often the poller called `onRound` (the watchdog heartbeat in the daemon).
    let roundCallbacks = Locked(0)
    private let task = Mutex<Task<Void, any Error>?>(nil)
    private let currentPoller = Mutex<Poller<ManualClock>?>(nil)
    private let currentJournal = Mutex<EventJournal?>(nil)

    /// - Parameters:
    ///   - directory: The state dir to use (a fresh temporary one when nil).
    ///   - sources: The enabled sources.
    ///   - reader: The fake IMDS (a fresh one with the identity document when nil).
    ///   - roundReportInterval: Passed to the poller (`nil`: every round is reported).
    ///   - interval: Every source's interval (default 2 s).
    init(
        directory: String? = nil, sources: [MetadataSource] = MetadataSource.allCases,
        reader: FakeMetadataReader? = nil,
        roundReportInterval: Duration? = nil, interval: Duration = PollerConfiguration.defaultInterval
    ) {
        self.roundReportInterval = roundReportInterval
        self.directory = directory ?? PollerHarness.makeTemporaryDirectory()
        self.reader = reader ?? FakeMetadataReader(clock: clock)
        var configuration = PollerConfiguration(interval: interval)
        for source in MetadataSource.allCases where !sources.contains(source) {
            configuration[source].enabled = false
        }
        self.configuration = configuration
    }

    deinit {
        removeTree(directory)
    }

    static func makeTemporaryDirectory() -> String {
        var template = Array("/tmp/imdswatch-watch-test-XXXXXX".utf8CString)
        let path = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        return path.map { String(cString: $0) } ?? "/tmp"
    }

    var store: StateStore { StateStore(directory: directory) }
    var statePath: String { store.path }

    var poller: Poller<ManualClock>? { currentPoller.withLock { $0 } }

    /// A journal over this state dir whose one consumer is ``sink``.
    func makeJournal(logger: Logger = Logger(label: "test")) -> EventJournal {
        EventJournal(directory: directory, consumers: [SinkConsumer(name: "sink", sink: sink)], logger: logger)
    }

    /// The state a restarted process would load: the journal's last state, else the checkpoint.
    func savedState() -> WatchState {
        let bytes =
            (try? SafeFile.readRegularFileIfPresent(directory + "/" + EventJournal.fileName, limit: 1 << 26)) ?? nil
        for record in JournalRecord.read(bytes ?? []).records.reversed() {
            if case .detected(_, let state?) = record, let loaded = try? WatchState(json: state) { return loaded }
        }
        return store.load(logger: Logger(label: "test"), nowMilliseconds: 0)
    }

    /// Loops that park on the clock when idle: one per enabled source plus the identity refresh.
    var loopCount: Int { configuration.enabledSources.count + 1 }

    /// Starts a new poller (a "process") and waits until its first round has run and every loop is parked.
    @discardableResult
    func start() async -> Poller<ManualClock> {
        let logger = Logger(label: "test") { [logs] _ in logs }
        let journal = makeJournal(logger: logger)
        let poller = Poller(
            configuration: configuration, reader: reader, journal: journal, store: store, clock: clock, logger: logger,
            wallClock: clock.wallClock,
            roundReportInterval: roundReportInterval,
            onRound: { [roundCallbacks] in roundCallbacks.update { $0 += 1 } }
        )
        currentPoller.withLock { $0 = poller }
        currentJournal.withLock { $0 = journal }
        task.withLock {
            $0 = Task {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { try await poller.run() }
                    group.addTask { try await journal.run() }
                }
            }
        }
        await settle()
        return poller
    }

    /// Stops the running poller, like a SIGKILL after the last completed poll.
    func stop() async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        _ = try? await running?.value
    }

    /// Waits until every loop is parked on the clock and the sink has taken every event the journal offered.
    func settle() async {
        let parked = await clock.waitForSleepers(loopCount)
        #expect(parked, "poller loops did not park on the clock")
        await currentJournal.withLock { $0 }?.waitUntilTaken()
    }

    /// Moves time forward in steps, letting every loop finish its work at each step.
    func advance(by duration: Duration, step: Duration = .milliseconds(100)) async {
        var left = duration
        while left > .zero {
            let move = min(step, left)
            clock.advance(by: move)
            left -= move
            await settle()
        }
    }

    /// Runs `count` polling rounds at the default 2 s interval.
    func rounds(_ count: Int) async {
        await advance(by: .seconds(2) * count, step: .seconds(2))
    }

    func logLines(_ level: Logger.Level? = nil, containing text: String) -> [String] {
        logs.entries.filter { (level == nil || $0.level == level) && "\($0.message)".contains(text) }.map {
            "\($0.message)"
        }
    }
}
