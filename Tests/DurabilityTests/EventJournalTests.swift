import Durability
import Events
import Foundation
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Synchronization
import Testing

/// A consumer that records what it takes; it can refuse events (as a shutdown does) and enrich them.
final class TakingConsumer: JournalConsumer {
    let name: String
    let upstream: String?
    let only: EventType?
    let refuse: Bool
    let mark: String?
    private let storage = Mutex<[Event]>([])

    init(name: String, upstream: String? = nil, only: EventType? = nil, refuse: Bool = false, mark: String? = nil) {
        self.name = name
        self.upstream = upstream
        self.only = only
        self.refuse = refuse
        self.mark = mark
    }

    var taken: [Event] { storage.withLock { $0 } }

    func handles(_ event: Event) -> Bool { only.map { $0 == event.type } ?? true }

    func take(_ event: Event) async -> Event? {
        if refuse { return nil }
        storage.withLock { $0.append(event) }
        guard let mark else { return event }
        var output = event
        output.lifecycleTarget = LifecycleTarget(group: mark, hook: nil)
        return output
    }
}

/// A logger whose lines the test reads.
final class LogRecorder: Sendable {
    let handler = InMemoryLogHandler()
    var logger: Logger { Logger(label: "test") { [handler] _ in handler } }

    func lines(containing text: String) -> [String] {
        handler.entries.map { "\($0.message)" }.filter { $0.contains(text) }
    }
}

@Suite("Event journal", .timeLimit(.minutes(1)))
struct EventJournalTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "imdswatch-journal-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }

    static func event(_ id: String, _ type: EventType = .spotInterruption, at milliseconds: Int64 = 1_795_000_000_000)
        -> Event
    {
        Event.fixture(
            id: id, type: type, detectedAtMilliseconds: milliseconds, instance: .unknown, data: ["n": .string(id)])
    }

    var journalPath: String { directory + "/" + EventJournal.fileName }

    /// Runs a journal over the directory until `body` returns, then stops it as a clean shutdown does.
    func withRunning(
        _ consumers: [any JournalConsumer], logs: LogRecorder = LogRecorder(),
        _ body: (EventJournal) async -> Void
    ) async {
        let journal = EventJournal(directory: directory, consumers: consumers, logger: logs.logger)
        let running = Task { try await journal.run() }
        _ = await journal.open()
        await body(journal)
        await journal.waitUntilTaken()
        running.cancel()
        _ = try? await running.value
    }

    @Test func aRecordIsDurableBeforeItsEventsAreOfferedAndTheStateComesBack() async throws {
        let consumer = TakingConsumer(name: "hooks")
        await withRunning([consumer]) { journal in
            #expect(await journal.open() == nil, "an empty state dir has no journaled state")
            let durable = await journal.record(events: [Self.event("a")], state: ["version": 1, "n": 1]).durable()
            #expect(durable)
            await journal.waitUntilTaken()
        }
        #expect(consumer.taken.map(\.id) == ["a"])
        let restarted = EventJournal(
            directory: directory, consumers: [TakingConsumer(name: "hooks")], logger: Logger(label: "test"))
        // The clean stop compacted: the state is in the checkpoint, the acknowledged event is gone.
        #expect(await restarted.open() == nil)
        let checkpoint = try String(contentsOfFile: directory + "/state.json", encoding: .utf8)
        #expect(checkpoint == "{\"version\":1,\"n\":1}\n")
        #expect(await restarted.unfinishedEventIDs().isEmpty)
    }

    @Test func unacknowledgedEventsAreOfferedAgainInDetectionOrderAndAcknowledgedOnesAreNot() async throws {
        // First run: `hooks` takes everything, `webhooks` refuses (as if SIGKILLed before taking them).
        let hooks = TakingConsumer(name: "hooks")
        await withRunning([hooks, TakingConsumer(name: "webhooks", refuse: true)]) { journal in
            journal.record(events: [Self.event("a")], state: ["s": 1])
            journal.record(events: [], state: ["s": 2])
            journal.record(events: [Self.event("b"), Self.event("c")], state: ["s": 3])
            _ = await journal.record(events: [Self.event("d")], state: ["s": 4]).durable()
        }
        #expect(hooks.taken.map(\.id) == ["a", "b", "c", "d"])
        let again = TakingConsumer(name: "hooks")
        let webhooks = TakingConsumer(name: "webhooks")
        let reading = EventJournal(directory: directory, consumers: [again, webhooks], logger: Logger(label: "test"))
        #expect(await reading.unfinishedEventIDs() == ["a", "b", "c", "d"])
        #expect(await reading.unfinishedEventIDs(for: "hooks").isEmpty)
        #expect(await reading.unfinishedEventIDs(for: "webhooks") == ["a", "b", "c", "d"])
        await withRunning([again, webhooks]) { _ in }
        #expect(again.taken.isEmpty, "hooks acknowledged every event: nothing is offered to it twice")
        #expect(webhooks.taken.map(\.id) == ["a", "b", "c", "d"])
        await withRunning([TakingConsumer(name: "hooks"), TakingConsumer(name: "webhooks")]) { journal in
            #expect(await journal.unfinishedEventIDs().isEmpty)
        }
    }

    @Test func aDownstreamConsumerGetsTheUpstreamStagesOutputAfterItsAcknowledgement() async {
        let stage = TakingConsumer(name: "lifecycle", only: .asgLifecycleState, mark: "enriched")
        let hooks = TakingConsumer(name: "hooks", upstream: "lifecycle")
        await withRunning([stage, hooks]) { journal in
            _ = await journal.record(events: [Self.event("spot"), Self.event("asg", .asgLifecycleState)], state: nil)
                .durable()
            await journal.waitUntilTaken()
        }
        #expect(stage.taken.map(\.id) == ["asg"])
        #expect(Set(hooks.taken.map(\.id)) == ["spot", "asg"])
        #expect(hooks.taken.first { $0.id == "asg" }?.lifecycleTarget?.group == "enriched")
        #expect(hooks.taken.first { $0.id == "spot" }?.lifecycleTarget?.group == nil)

        // The stage refuses at first (a shutdown during its lookup): the hooks get nothing for that event, and the
        // next start offers it to the stage, then its output to the hooks.
        let refusing = TakingConsumer(name: "lifecycle", only: .asgLifecycleState, refuse: true)
        let idle = TakingConsumer(name: "hooks", upstream: "lifecycle")
        await withRunning([refusing, idle]) { journal in
            _ = await journal.record(events: [Self.event("asg2", .asgLifecycleState)], state: nil).durable()
        }
        #expect(idle.taken.isEmpty)
        let stage2 = TakingConsumer(name: "lifecycle", only: .asgLifecycleState, mark: "late")
        let hooks2 = TakingConsumer(name: "hooks", upstream: "lifecycle")
        await withRunning([stage2, hooks2]) { journal in
            await journal.waitUntilTaken()
        }
        #expect(stage2.taken.map(\.id) == ["asg2"])
        #expect(hooks2.taken.map(\.id) == ["asg2"])
        #expect(hooks2.taken.first?.lifecycleTarget?.group == "late")
    }

    @Test func aTornTailIsDroppedWithAWarningAndTheIntactRecordsAreKept() async throws {
        var bytes = JournalRecord.detected(events: [Self.event("a")], state: ["s": 1]).line()
        bytes += JournalRecord.detected(events: [Self.event("b")], state: ["s": 2]).line()
        let torn = JournalRecord.detected(events: [Self.event("c")], state: ["s": 3]).line()
        bytes += torn.prefix(torn.count / 2)
        try Data(bytes).write(to: URL(fileURLWithPath: journalPath))
        let reading = JournalRecord.read(bytes)
        #expect(reading.records.count == 2)
        #expect(reading.tornTailBytes == torn.count / 2)
        #expect(reading.corruptAt == nil)

        let logs = LogRecorder()
        let consumer = TakingConsumer(name: "hooks")
        await withRunning([consumer], logs: logs) { journal in
            #expect(await journal.open() == ["s": 2])
        }
        #expect(consumer.taken.map(\.id) == ["a", "b"])
        #expect(logs.lines(containing: "dropped a torn record").count == 1)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains("corrupt") }.isEmpty)
    }

    @Test func aBadChecksumBeforeTheEndMovesTheFileAsideAndKeepsTheRecordsBeforeIt() async throws {
        var bytes = JournalRecord.detected(events: [Self.event("a")], state: ["s": 1]).line()
        var damaged = JournalRecord.detected(events: [Self.event("b")], state: ["s": 2]).line()
        let index = try #require(damaged.lastIndex(of: UInt8(ascii: "b")))
        damaged[index] = UInt8(ascii: "x")
        bytes += damaged
        bytes += JournalRecord.detected(events: [Self.event("c")], state: ["s": 3]).line()
        try Data(bytes).write(to: URL(fileURLWithPath: journalPath))
        #expect(
            JournalRecord.read(bytes).corruptAt == bytes.count - damaged.count
                - JournalRecord.detected(events: [Self.event("c")], state: ["s": 3]).line().count)

        let logs = LogRecorder()
        let consumer = TakingConsumer(name: "hooks")
        await withRunning([consumer], logs: logs) { journal in
            #expect(await journal.open() == ["s": 1])
        }
        #expect(consumer.taken.map(\.id) == ["a"])
        #expect(logs.lines(containing: "moved it aside").count == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.filter { $0.hasPrefix("events.journal.corrupt-") }.count == 1)
        #expect(names.contains(EventJournal.fileName))
    }

    @Test func compactionKeepsOnlyWhatSomeConsumerOwesAndCheckpointsTheState() async throws {
        let hooks = TakingConsumer(name: "hooks")
        let journal = EventJournal(
            directory: directory,
            consumers: [hooks, TakingConsumer(name: "webhooks", only: .maintenanceScheduled, refuse: true)],
            compactionBytes: 2_000, logger: Logger(label: "test")
        )
        let running = Task { try await journal.run() }
        for index in 0..<40 {
            let type: EventType = index == 7 ? .maintenanceScheduled : .spotInterruption
            _ = await journal.record(events: [Self.event("e\(index)", type)], state: ["s": .number(Double(index))])
                .durable()
            await journal.waitUntilTaken()
        }
        // Compacted while running: the file stays small, and holds the one event `webhooks` still owes.
        let size = try #require(try FileManager.default.attributesOfItem(atPath: journalPath)[.size] as? Int)
        #expect(size < 4_000)
        let records = JournalRecord.read(try [UInt8](Data(contentsOf: URL(fileURLWithPath: journalPath)))).records
        let kept = records.compactMap { record -> String? in
            if case .detected(let events, _) = record { return events.first?.id }
            return nil
        }
        #expect(kept.first == "e7")
        running.cancel()
        _ = try? await running.value
        #expect(hooks.taken.count == 40)
        #expect(try String(contentsOfFile: directory + "/state.json", encoding: .utf8) == "{\"s\":39}\n")
        let restarted = EventJournal(
            directory: directory, consumers: [hooks, TakingConsumer(name: "webhooks", only: .maintenanceScheduled)],
            logger: Logger(label: "test"))
        #expect(await restarted.unfinishedEventIDs() == ["e7"])
        // The compacted records hold no state: the checkpoint does.
        #expect(await restarted.open() == nil)
        #expect(try String(contentsOfFile: directory + "/state.json", encoding: .utf8) == "{\"s\":39}\n")
    }
}
