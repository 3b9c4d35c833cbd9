import Events
import Hooks
import Synchronization
import Testing

/// `HookDispatcher.observeSequences`: told once per event when its hook sequence has ended, with the results; the
/// lifecycle actions complete their Auto Scaling action from it.
@Suite("Sequence observer", .serialized, .timeLimit(.minutes(1)))
struct SequenceObserverTests {
    final class Seen: Sendable {
        let entries = Mutex<[(id: String, hooks: [String], statuses: [Int32])]>([])
    }

    @Test func toldOnceAfterTheLastHookWithEveryResult() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("asg-lifecycle-state.d/10-a", "echo a >> \(dir.path)/order")
        try dir.script("asg-lifecycle-state.d/20-b", "echo b >> \(dir.path)/order; exit 3")
        let (logger, _) = memoryLogger()
        let dispatcher = HookDispatcher(catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger)
        let seen = Seen()
        await dispatcher.observeSequences { event, results in
            // Both hooks have ended when the observer runs.
            let order = dir.read("order") ?? ""
            seen.entries.withLock {
                $0.append(
                    (event.id + (order == "a\nb\n" ? "" : " early"), results.map(\.hook), results.map(\.exitStatus)))
            }
        }
        let event = syntheticEvent(.asgLifecycleState)
        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(event)
            await dispatcher.deliver(syntheticEvent(.tagsChanged))
            await dispatcher.waitUntilIdle()
        }
        let entries = seen.entries.withLock { $0 }
        #expect(entries.count == 2)
        let asg = entries.first { $0.hooks == ["10-a", "20-b"] }
        #expect(asg?.id == event.id)
        #expect(asg?.statuses == [0, 3])
        #expect(entries.contains { $0.hooks.isEmpty }, "an event without hooks is reported with no results")
    }

    @Test func dryRunReportsNoResults() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-a", "exit 0")
        let (logger, _) = memoryLogger()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), configuration: .init(dryRun: true), logger: logger
        )
        let seen = Seen()
        await dispatcher.observeSequences { event, results in
            seen.entries.withLock { $0.append((event.id, results.map(\.hook), [])) }
        }
        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(syntheticEvent(.asgLifecycleState))
            await dispatcher.waitUntilIdle()
        }
        #expect(seen.entries.withLock { $0.map(\.hooks) } == [[]])
    }
}
