import Events
import Foundation
import Hooks
import Logging
import Synchronization

/// Where the demo's watcher delivers events: prints each on the timeline, runs its hooks (the example hooks, with
/// the fakes first on PATH) with ``HookRunner/runSequence(_:for:dryRun:eventFileDirectory:extraEnvironment:willRun:didRun:)``
/// as the daemon does, and lets the scenario driver await each expected event and the end of its hooks.
actor DemoHookSink: EventSink {
    private let catalog: HookCatalog
    private let runner: HookRunner
    private let environment: [String: String?]
    private let eventFileDirectory: String
    private let timeline: DemoTimeline
    private let logger: Logger

    private var unclaimed: [Event] = []
    private var waiters: [Int: (type: EventType, continuation: CheckedContinuation<Event?, Never>)] = [:]
    private var nextWaiter = 0
    private var sequences: [String: Task<Void, Never>] = [:]
    private var sequenceObserver: HookDispatcher.SequenceObserver?

    /// Sets who is told when an event's hooks have ended (the lifecycle actions), as ``HookDispatcher`` does.
    func observeSequences(_ observer: @escaping HookDispatcher.SequenceObserver) {
        sequenceObserver = observer
    }

    /// Creates a sink.
    /// - Parameters:
    ///   - workspace: The demo's directory: hooks, fakes, event files.
    ///   - environment: Added to the hooks' environment (PATH with the fakes first, the hooks' settings).
    ///   - timeline: Where events, hook results and fake calls are printed.
    ///   - logger: For the hooks' output and results (the demo's log file).
    init(workspace: DemoWorkspace, environment: [String: String?], timeline: DemoTimeline, logger: Logger) {
        self.catalog = HookCatalog(directory: workspace.hooksDir)
        self.runner = HookRunner(configuration: .init(timeout: .seconds(20), killGrace: .seconds(2)), logger: logger)
        self.environment = environment
        self.eventFileDirectory = workspace.eventsDir
        self.timeline = timeline
        self.logger = logger
    }

    /// Prints the event, starts its hooks in the background and wakes whoever awaits an event of its type.
    func deliver(_ event: Event) async {
        timeline.fired(event)
        let (catalog, runner, environment, directory, timeline, logger, observer) =
            (catalog, runner, environment, eventFileDirectory, timeline, logger, sequenceObserver)
        sequences[event.id] = Task.detached {
            let results = await Self.runHooks(
                for: event, catalog: catalog, runner: runner, environment: environment, eventFileDirectory: directory,
                timeline: timeline, logger: logger
            )
            await observer?(event, results)
        }
        if let (id, waiter) = waiters.first(where: { $0.value.type == event.type }) {
            waiters[id] = nil
            waiter.continuation.resume(returning: event)
        } else {
            unclaimed.append(event)
        }
    }

    /// The next event of `type` not claimed yet: one already delivered, or the next one to come.
    /// - Returns: The event, or `nil` when the calling task is cancelled first (the caller's timeout).
    func next(_ type: EventType) async -> Event? {
        if let index = unclaimed.firstIndex(where: { $0.type == type }) {
            return unclaimed.remove(at: index)
        }
        let id = nextWaiter
        nextWaiter += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    waiters[id] = (type, continuation)
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Waits until the hooks of the event with this id have all ended (at once when it has none or is unknown).
    func hooksFinished(for eventID: String) async {
        await sequences[eventID]?.value
    }

    /// Waits until every hook sequence started so far has ended.
    func allHooksFinished() async {
        for sequence in sequences.values { await sequence.value }
    }

    /// Events delivered that nobody awaited (fired although the scenario did not expect them).
    var unexpectedEvents: [Event] { unclaimed }

    private func cancelWaiter(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
    }

    /// One event's hooks, in order; after each, the fakes it called and its result go on the timeline.
    private static func runHooks(
        for event: Event, catalog: HookCatalog, runner: HookRunner, environment: [String: String?],
        eventFileDirectory: String, timeline: DemoTimeline, logger: Logger
    ) async -> [HookResult] {
        var logger = logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        let plan = catalog.plan(for: event.type)
        plan.log(to: logger)
        let paths = Dictionary(plan.hooks.map { ($0.name, $0.relativePath) }) { first, _ in first }
        return await runner.runSequence(
            plan.hooks, for: event, eventFileDirectory: eventFileDirectory, extraEnvironment: environment,
            didRun: { result in
                timeline.hookEnded(paths[result.hook] ?? result.hook, result)
            }
        )
    }
}

/// Reads the lines the fakes appended to the calls file since the last read.
final class DemoCallsReader: Sendable {
    private let path: String
    private let offset = Mutex<UInt64>(0)

    /// Creates a reader of `path`, starting at its beginning.
    init(path: String) {
        self.path = path
    }

    /// The complete lines appended since the last call: each fake call's command line (the event id dropped).
    func drain() -> [String] {
        offset.withLock { offset in
            guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
            defer { try? handle.close() }
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty else {
                return []
            }
            let bytes = Array(data)
            guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            offset += UInt64(lastNewline + 1)
            return String(decoding: bytes[...lastNewline], as: UTF8.self)
                .split(separator: "\n")
                .map { line in String(line.split(separator: "\t", maxSplits: 1).last ?? line) }
        }
    }
}
