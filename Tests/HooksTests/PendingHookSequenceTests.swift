import Durability
import Events
import Foundation
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Testing

@testable import Hooks

@Suite("Unfinished hook sequences resume after a restart", .timeLimit(.minutes(1)))
struct PendingHookSequenceTests {
    private static func spot(id: String, time: String) -> Event {
        Event.fixture(
            id: id, type: .spotInterruption, detectedAtMilliseconds: 1_795_953_600_000, instance: .unknown,
            data: ["action": "terminate", "time": .string(time)]
        )
    }

    /// Three hooks that each append their name to `log`.
    private static func threeHooks(_ dir: HooksDirectory) throws {
        for name in ["10-a", "20-b", "30-c"] {
            try dir.script(name, "echo \(name) >> \"\(dir.path)/log\"")
        }
    }

    /// A dispatcher over `dir` whose records live in `pendingDir` (a fresh store: as after a restart).
    private static func dispatcher(_ dir: HooksDirectory, _ pendingDir: String, _ logger: Logger) -> HookDispatcher {
        HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger,
            pending: PendingHookSequences(directory: pendingDir, logger: logger)
        )
    }

    @Test func hooksThatDidNotRunToTheEndRunAfterARestart() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try Self.threeHooks(dir)
        let pendingDir = dir.path + "/.state/hooks-pending"
        let (logger, handler) = memoryLogger()
        // An earlier run: the event was recorded, hook 10-a ran to the end, then the daemon was killed during 20-b.
        let before = PendingHookSequences(directory: pendingDir, logger: logger)
        let event = Self.spot(id: "e1", time: "2999-01-01T00:00:00Z")
        #expect(await before.record(event))
        #expect(await !before.record(event), "recorded once")
        await before.markDone(eventID: "e1", hook: "10-a")

        let dispatcher = Self.dispatcher(dir, pendingDir, logger)
        #expect(await dispatcher.resumePending(nowMilliseconds: 1_795_953_600_000).count == 1)
        try await withRunning(dispatcher) { _ in await dispatcher.waitUntilIdle() }

        #expect(dir.read("log") == "20-b\n30-c\n")
        #expect(try SafeFile.entries(of: pendingDir).isEmpty, "the finished sequence's record is removed")
        #expect(handler.entries.contains { $0.text.contains("resuming the hooks of this event after a restart") })
    }

    /// The journal offers an event again when the hooks' acknowledgement was not written before the crash; its
    /// sequence was resumed from `hooks-pending/` at start and may have ended (record removed) before that offer:
    /// it is not run a second time in this run (found by the all-sources kill loop).
    @Test func anEventResumedAtStartIsNotRunAgainWhenTheJournalOffersItAfterItsSequenceEnded() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try Self.threeHooks(dir)
        let pendingDir = dir.path + "/.state/hooks-pending"
        let (logger, handler) = memoryLogger()
        let event = Self.spot(id: "e3", time: "2999-01-01T00:00:00Z")
        #expect(await PendingHookSequences(directory: pendingDir, logger: logger).record(event))

        let dispatcher = Self.dispatcher(dir, pendingDir, logger)
        #expect(await dispatcher.resumePending(nowMilliseconds: 1_795_953_600_000) == ["e3"])
        try await withRunning(dispatcher) { _ in
            await dispatcher.waitUntilIdle()
            #expect((try? SafeFile.entries(of: pendingDir).isEmpty) == true, "the resumed sequence ended")
            await dispatcher.deliver(event)
            await dispatcher.waitUntilIdle()

            #expect(dir.read("log") == "10-a\n20-b\n30-c\n")
            #expect(handler.entries.contains { $0.text.contains("taken up after the restart: not run twice") })
            // A later detection of another event runs as usual.
            await dispatcher.deliver(Self.spot(id: "e4", time: "2999-01-01T00:00:01Z"))
            await dispatcher.waitUntilIdle()
            #expect(dir.read("log") == "10-a\n20-b\n30-c\n10-a\n20-b\n30-c\n")
        }
    }

    @Test func anEventWhoseDeadlinePassedIsNotResumed() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try Self.threeHooks(dir)
        let pendingDir = dir.path + "/.state/hooks-pending"
        let (logger, handler) = memoryLogger()
        let before = PendingHookSequences(directory: pendingDir, logger: logger)
        #expect(await before.record(Self.spot(id: "old", time: "2026-11-29T12:02:00Z")))

        let dispatcher = Self.dispatcher(dir, pendingDir, logger)
        #expect(await dispatcher.resumePending(nowMilliseconds: 1_795_953_600_000 + 180_000).isEmpty)

        #expect(dir.read("log") == nil)
        #expect(try SafeFile.entries(of: pendingDir).isEmpty)
        #expect(
            handler.entries.contains {
                $0.level == .warning && $0.text.contains("deadline 2026-11-29T12:02:00Z has passed")
            })
    }

    @Test func aDeliveredEventIsRecordedBeforeDeliverReturnsAndRemovedWhenItsHooksEnd() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script(
            "10-wait", "echo ran >> \"\(dir.path)/log\"; while [ ! -e \"\(dir.path)/go\" ]; do sleep 0.02; done")
        let pendingDir = dir.path + "/.state/hooks-pending"
        let (logger, handler) = memoryLogger()
        let dispatcher = Self.dispatcher(dir, pendingDir, logger)

        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(Self.spot(id: "e2", time: "2999-01-01T00:00:00Z"))
            // Detected again (after a restart before the state was saved): not run a second time while pending.
            await dispatcher.deliver(Self.spot(id: "e2", time: "2999-01-01T00:00:00Z"))
            #expect(handler.entries.contains { $0.text.contains("already pending") })

            let names = try SafeFile.entries(of: pendingDir)
            #expect(names == [PendingHookSequences.fileName("e2")])
            let record = try String(contentsOfFile: pendingDir + "/" + names[0], encoding: .utf8)
            #expect(record.contains("\"done\":[]"))
            FileManager.default.createFile(atPath: dir.path + "/go", contents: nil)
            await dispatcher.waitUntilIdle()
        }
        #expect(try SafeFile.entries(of: pendingDir).isEmpty)
        #expect(dir.read("log") == "ran\n")
    }

    @Test func deadlinesParse() {
        #expect(Self.spot(id: "x", time: "2026-11-29T12:00:00Z").deadlineMilliseconds == 1_795_953_600_000)
        #expect(Self.spot(id: "x", time: "garbage").deadlineMilliseconds == nil)
    }
}

/// docs/events.md's edge: a sequence whose record was removed (it ended) before the journal's acknowledgement was
/// durable is offered again after the restart and runs whole, every hook from the first.
@Suite("What runs again when an ended sequence is offered again", .timeLimit(.minutes(1)))
struct EndedSequenceOfferedAgainTests {
    @Test func anEndedSequenceOfferedAgainRunsEveryHookFromTheFirst() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        for name in ["10-a", "20-b"] {
            try dir.script(name, "echo \(name) >> \"\(dir.path)/log\"")
        }
        let pendingDir = dir.path + "/.state/hooks-pending"
        let (logger, _) = memoryLogger()
        let event = Event.fixture(
            id: "ended", type: .spotInterruption, detectedAtMilliseconds: 1_795_953_600_000, instance: .unknown,
            data: ["action": "terminate", "time": "2999-01-01T00:00:00Z"]
        )
        // The first run: the sequence ends and its record goes (each hook's end was noted before the next started).
        let first = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger,
            pending: PendingHookSequences(directory: pendingDir, logger: logger)
        )
        try await withRunning(first) { _ in
            await first.deliver(event)
            await first.waitUntilIdle()
        }
        #expect(try SafeFile.entries(of: pendingDir).isEmpty)
        // Killed before the acknowledgement was durable: the next start offers the event again.
        let second = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger,
            pending: PendingHookSequences(directory: pendingDir, logger: logger)
        )
        #expect(await second.resumePending(nowMilliseconds: 1_795_953_600_000).isEmpty)
        try await withRunning(second) { _ in
            await second.deliver(event)
            await second.waitUntilIdle()
        }
        #expect(dir.read("log") == "10-a\n20-b\n10-a\n20-b\n")
    }
}
