import Dispatch
import Events
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The event journal: `STATE_DIR/events.journal`, an append-only file whose records hold what the poller detected
/// together with the watch state after it, and each consumer's acknowledgement of each event.
///
/// ``record(events:state:)`` enqueues a record without suspending; a serial I/O queue (never the IMDS event loop's
/// thread) writes it in one `write` and `fdatasync`s it, and only then offers its events to the consumers. A consumer
/// that has taken an event into its own durable store acknowledges it (a record too); at the next start every event
/// some consumer has not acknowledged is offered to it again (``run()``). `state.json` is the checkpoint written at
/// compaction, which drops the records every consumer has acknowledged; the state at start is the journal's last
/// state, else the checkpoint's. A torn tail (a write cut short) is dropped with a warning; a file damaged before its
/// end is moved aside as `events.journal.corrupt-<UTC time>` (its intact records are kept).
package final class EventJournal: Service, Sendable {
    /// The journal's file name in the state directory.
    package static let fileName = "events.journal"
    /// The checkpoint's file name (the watch state, as the release before the journal wrote it).
    package static let checkpointName = "state.json"

    /// The state directory.
    package let directory: String
    /// The journal is compacted once it grows past this many bytes (and at every start and clean stop).
    package let compactionBytes: Int
    let consumers: [any JournalConsumer]
    let logger: Logger
    let queue = DispatchQueue(label: "imdswatch-journal")
    let core = Mutex(Core())
    /// Per consumer: events detected or handed on during this run.
    let live: [String: Channel]
    /// Per consumer: events a previous run left unacknowledged.
    let catchUp: [String: Channel]

    struct Channel: Sendable {
        let stream: AsyncStream<Event>
        let continuation: AsyncStream<Event>.Continuation

        init() {
            (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        }
    }

    struct Entry {
        var event: Event
        /// Consumer name -> the event as it handed it on.
        var acks: [String: Event] = [:]
    }

    struct Core {
        var opened = false
        var openedState: JSONValue?
        var size = 0
        var lastState: JSONValue?
        var checkpointed = true
        var entries: [String: Entry] = [:]
        var order: [String] = []
        var writeFailed = false
        var inFlight = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Creates the journal; touches nothing until ``open()``, ``record(events:state:)`` or ``run()``.
    /// - Parameters:
    ///   - directory: The state directory.
    ///   - consumers: Who takes the events, each with its own durable store.
    ///   - compactionBytes: The size past which the journal is compacted.
    ///   - logger: Torn tails, corrupt files, write failures.
    package init(directory: String, consumers: [any JournalConsumer], compactionBytes: Int = 1 << 20, logger: Logger) {
        var trimmed = directory
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.directory = trimmed.isEmpty ? "." : trimmed
        self.consumers = consumers
        self.compactionBytes = compactionBytes
        self.logger = logger
        var live: [String: Channel] = [:]
        var catchUp: [String: Channel] = [:]
        for consumer in consumers {
            live[consumer.name] = Channel()
            catchUp[consumer.name] = Channel()
        }
        self.live = live
        self.catchUp = catchUp
    }

    /// The journal's path.
    package var path: String { directory + "/" + Self.fileName }

    // MARK: Detection side

    /// Reads the journal once (later calls return the same answer), queues what a previous run left unacknowledged
    /// for the consumers, and compacts.
    /// - Returns: The last watch state the journal holds, or `nil` (then the checkpoint `state.json` holds it).
    package func open() async -> JSONValue? {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.openOnQueue()) }
        }
    }

    /// The events some consumer has not acknowledged yet (offered again by ``run()``), after ``open()``.
    /// - Parameter consumer: Only those this consumer handles and has not acknowledged (`nil`: any consumer).
    package func unfinishedEventIDs(for consumer: String? = nil) async -> Set<String> {
        _ = await open()
        let owing = consumers.filter { consumer == nil || $0.name == consumer }
        return core.withLock { core in
            Set(
                core.entries.values.filter { entry in
                    owing.contains { $0.handles(entry.event) && entry.acks[$0.name] == nil }
                }.map(\.event.id))
        }
    }

    /// Records what one poll detected and the state after it. Returns at once: the record is queued for the I/O
    /// queue, in call order, and its events are offered to the consumers once it is durable.
    /// - Returns: A ticket that tells when the record is durable (or could not be written).
    @discardableResult
    package func record(events: [Event], state: JSONValue?) -> JournalTicket {
        let ticket = JournalTicket()
        queue.async { self.appendOnQueue(.detected(events: events, state: state), ticket: ticket) }
        return ticket
    }

    // MARK: Consumer side

    /// Feeds the consumers until cancelled or a graceful shutdown: first what the previous run left
    /// unacknowledged (each consumer's catch-up runs beside its live events, so new events never wait for it), then
    /// every event as it becomes durable. Compacts once more when it stops.
    package func run() async throws {
        _ = await open()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for consumer in self.consumers {
                    if let channel = self.catchUp[consumer.name] {
                        group.addTask { await self.consume(channel.stream, by: consumer) }
                    }
                    if let channel = self.live[consumer.name] {
                        group.addTask { await self.consume(channel.stream, by: consumer) }
                    }
                }
            }
        }
        await withCheckedContinuation { continuation in
            queue.async {
                self.compactOnQueue()
                continuation.resume()
            }
        }
    }

    /// Waits until every event offered to a consumer so far has been taken and its acknowledgement applied (tests).
    package func waitUntilTaken() async {
        await withCheckedContinuation { continuation in
            let idle = core.withLock { core in
                if core.inFlight == 0 { return true }
                core.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func consume(_ stream: AsyncStream<Event>, by consumer: any JournalConsumer) async {
        for await event in stream {
            if let output = await consumer.take(event) {
                let ack = JournalRecord.acknowledged(
                    consumer: consumer.name, eventID: event.id, output: output == event ? nil : output)
                // In flight until applied: it may offer the event to consumers downstream.
                core.withLock { $0.inFlight += 1 }
                queue.async {
                    self.appendOnQueue(ack, ticket: nil)
                    self.settle()
                }
            } else {
                logger.notice(
                    "\(consumer.name) did not take the event: offered again at the next start",
                    metadata: [LogField.eventType: .string(event.type.rawValue), LogField.eventID: .string(event.id)]
                )
            }
            settle()
        }
    }

    /// One offered event taken (or one acknowledgement applied): wakes ``waitUntilTaken()`` when none is left.
    private func settle() {
        let waiters = core.withLock { core -> [CheckedContinuation<Void, Never>] in
            core.inFlight -= 1
            guard core.inFlight == 0 else { return [] }
            defer { core.idleWaiters.removeAll() }
            return core.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: On the I/O queue

    private func openOnQueue() -> JSONValue? {
        let cached: (opened: Bool, state: JSONValue?) = core.withLock { ($0.opened, $0.openedState) }
        if cached.opened { return cached.state }
        var records: [JournalRecord] = []
        var existed = false
        do throws(SafeFile.Failure) {
            try SafeFile.makeDirectory(directory)
            if let bytes = try SafeFile.readRegularFileIfPresent(path, limit: 256 << 20) {
                existed = true
                let reading = JournalRecord.read(bytes)
                records = reading.records
                if reading.tornTailBytes > 0 {
                    logger.warning(
                        "event journal: dropped a torn record at its end (\(reading.tornTailBytes) bytes, a write cut short)",
                        metadata: ["path": "\(path)"]
                    )
                }
                if let offset = reading.corruptAt {
                    moveAside(
                        reason: "is damaged at byte \(offset); its \(records.count) intact records before that are kept"
                    )
                }
            }
        } catch {
            moveAside(reason: "cannot be read (\(error))")
        }
        for record in records { apply(record, feeding: false) }
        core.withLock { core in
            core.opened = true
            core.openedState = core.lastState
            core.checkpointed = core.lastState == nil
        }
        queueCatchUp()
        if existed { compactOnQueue() }
        return core.withLock { $0.openedState }
    }

    private func appendOnQueue(_ record: JournalRecord, ticket: JournalTicket?) {
        _ = openOnQueue()
        let line = record.line()
        var failure: String?
        // Opened for each record, not kept open: a descriptor open for writing would keep the file system from
        // being remounted read-only, and a change is rare next to the polls.
        var fd: Int32 = -1
        var size = 0
        do throws(SafeFile.Failure) {
            (fd, size) = try openForAppend()
        } catch {
            failure = "\(error)"
        }
        if fd >= 0 {
            if case let code = SystemCall.writeAll(fd, line), code != 0 {
                failure = "write: \(SystemCall.describe(errno: code))"
            } else if case let synced = SystemCall.retryingOnInterrupt({ fdatasync(fd) }), synced.value != 0 {
                failure = "fdatasync: \(SystemCall.describe(errno: synced.errno))"
            }
            // Never leave half a record for the next one to follow: cut the file back to its last whole record.
            if failure != nil { _ = SystemCall.retryingOnInterrupt { ftruncate(fd, off_t(size)) } }
            _ = close(fd)
        }
        if let failure {
            let first = core.withLock { core in
                defer { core.writeFailed = true }
                return !core.writeFailed
            }
            if first {
                logger.error(
                    "cannot write the event journal (\(failure)): events still fire, but may fire again after a restart",
                    metadata: ["path": "\(path)"]
                )
            }
        } else {
            let recovered = core.withLock { core in
                core.size = size + line.count
                defer { core.writeFailed = false }
                return core.writeFailed
            }
            if recovered { logger.notice("event journal written again", metadata: ["path": "\(path)"]) }
        }
        apply(record, feeding: true)
        ticket?.complete(durable: failure == nil)
        if core.withLock({ $0.size }) > compactionBytes { compactOnQueue() }
    }

    /// Applies a record to the in-memory index; with `feeding`, offers what it makes available to the consumers.
    private func apply(_ record: JournalRecord, feeding: Bool) {
        switch record {
        case .detected(let events, let state):
            var fresh: [Event] = []
            core.withLock { core in
                if let state {
                    core.lastState = state
                    core.checkpointed = false
                }
                for event in events where core.entries[event.id] == nil {
                    core.entries[event.id] = Entry(event: event)
                    core.order.append(event.id)
                    fresh.append(event)
                }
            }
            guard feeding else { return }
            for event in fresh {
                for consumer in consumers where consumer.handles(event) && !hasUpstream(consumer, handling: event) {
                    offer(event, to: consumer, channel: live)
                }
            }
        case .acknowledged(let name, let eventID, let output):
            let handedOn: Event? = core.withLock { core in
                guard var entry = core.entries[eventID] else { return nil }
                let handed = output ?? entry.event
                entry.acks[name] = handed
                core.entries[eventID] = entry
                return handed
            }
            guard feeding, let handedOn else { return }
            for consumer in consumers where consumer.upstream == name && consumer.handles(handedOn) {
                offer(handedOn, to: consumer, channel: live)
            }
        }
    }

    private func hasUpstream(_ consumer: any JournalConsumer, handling event: Event) -> Bool {
        guard let upstream = consumer.upstream else { return false }
        return consumers.contains { $0.name == upstream && $0.handles(event) }
    }

    private func offer(_ event: Event, to consumer: any JournalConsumer, channel: [String: Channel]) {
        guard let continuation = channel[consumer.name]?.continuation else { return }
        core.withLock { $0.inFlight += 1 }
        if case .terminated = continuation.yield(event) {
            core.withLock { $0.inFlight -= 1 }
        }
    }

    /// Offers every event a previous run left unacknowledged to the consumers that still owe it.
    private func queueCatchUp() {
        let entries = core.withLock { core in core.order.compactMap { core.entries[$0] } }
        var offered = 0
        for entry in entries {
            for consumer in consumers where entry.acks[consumer.name] == nil {
                if let upstream = consumer.upstream, let stage = consumers.first(where: { $0.name == upstream }),
                    stage.handles(entry.event)
                {
                    // Handed on by the upstream stage: offered now if it acknowledged, else when it does.
                    if let handed = entry.acks[upstream], consumer.handles(handed) {
                        offer(handed, to: consumer, channel: catchUp)
                        offered += 1
                    }
                } else if consumer.handles(entry.event) {
                    offer(entry.event, to: consumer, channel: catchUp)
                    offered += 1
                }
            }
        }
        if offered > 0 {
            logger.notice(
                "event journal: \(offered) deliveries a previous run left unfinished are offered again",
                metadata: ["path": "\(path)"])
        }
    }

    private func isComplete(_ entry: Entry) -> Bool {
        consumers.allSatisfy { !$0.handles(entry.event) || entry.acks[$0.name] != nil }
    }

    /// Writes the checkpoint if the state changed, then replaces the journal with the records of events some
    /// consumer still owes (state-free: the checkpoint holds the state).
    private func compactOnQueue() {
        let (state, checkpointed) = core.withLock { ($0.lastState, $0.checkpointed) }
        if let state, !checkpointed {
            var bytes = Array(state.serialized().utf8)
            bytes.append(UInt8(ascii: "\n"))
            do throws(SafeFile.Failure) {
                try SafeFile.writeDurably(bytes, directory: directory, name: Self.checkpointName)
                core.withLock { $0.checkpointed = true }
            } catch {
                logger.error(
                    "cannot write the checkpoint: \(error); the journal is not compacted", metadata: ["path": "\(path)"]
                )
                return
            }
        }
        let kept = core.withLock { core in
            let kept = core.order.compactMap { core.entries[$0] }.filter { !isComplete($0) }
            core.order = kept.map(\.event.id)
            core.entries = Dictionary(uniqueKeysWithValues: kept.map { ($0.event.id, $0) })
            return kept
        }
        var bytes: [UInt8] = []
        for entry in kept {
            bytes += JournalRecord.detected(events: [entry.event], state: nil).line()
            for (name, handed) in entry.acks.sorted(by: { $0.key < $1.key }) {
                bytes += JournalRecord.acknowledged(
                    consumer: name, eventID: entry.event.id, output: handed == entry.event ? nil : handed
                ).line()
            }
        }
        do throws(SafeFile.Failure) {
            try SafeFile.writeDurably(bytes, directory: directory, name: Self.fileName)
        } catch {
            logger.error("cannot compact the event journal: \(error)", metadata: ["path": "\(path)"])
            return
        }
        core.withLock { $0.size = bytes.count }
    }

    /// Opens the journal for appending (created, and the directory synced, when missing).
    /// - Returns: The descriptor and the file's size.
    private func openForAppend() throws(SafeFile.Failure) -> (Int32, Int) {
        let existed = SafeFile.kind(of: path) != nil
        // O_NONBLOCK: a FIFO planted here is refused below, never waited on.
        let fd = try SafeFile.openFile(
            path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, mode: 0o600, operation: "open")
        do throws(SafeFile.Failure) {
            let status = try SafeFile.fileStatus(of: fd, path: path, operation: "open")
            guard status.st_mode & S_IFMT == S_IFREG else {
                throw SafeFile.Failure(operation: "open", path: path, errno: 0, reason: "not a regular file")
            }
            let size = Int(status.st_size)
            if !existed { try SafeFile.syncDirectory(directory) }
            return (fd, size)
        } catch {
            _ = close(fd)
            throw error
        }
    }

    private func moveAside(reason: String) {
        do throws(SafeFile.Failure) {
            let target = try SafeFile.moveAside(
                directory: directory, fileName: Self.fileName, nowMilliseconds: SystemWallClock().now())
            logger.warning(
                "event journal \(reason): moved it aside", metadata: ["path": "\(path)", "moved_to": "\(target)"])
        } catch {
            logger.warning(
                "event journal \(reason) and could not be moved aside (\(error))", metadata: ["path": "\(path)"])
        }
    }
}

/// Tells when a journal record is durable.
package final class JournalTicket: Sendable {
    private let state = Mutex<(durable: Bool?, waiters: [CheckedContinuation<Bool, Never>])>((nil, []))

    init() {}

    func complete(durable: Bool) {
        let waiters = state.withLock { state in
            state.durable = durable
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: durable) }
    }

    /// Waits until the record was written and synced.
    /// - Returns: `true` when it is durable, `false` when it could not be written (its events were still offered).
    package func durable() async -> Bool {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool? in
                if let durable = state.durable { return durable }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}
