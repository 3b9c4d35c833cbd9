internal import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One thread that drives a libcurl multi handle, fires timers and runs Swift jobs.
///
/// Transfers run concurrently on that thread (one slow request never delays another) without a thread hop per
/// request. The loop is also a `TaskExecutor`: code that runs with it as its executor preference
/// (`withTaskExecutorPreference`) and sleeps on its ``EventLoopClock`` starts a request, waits for the response
/// and wakes up from the timer all on this one thread, so that a poll costs no context switches beyond the
/// network's own.
///
/// The thread starts with the first piece of work and ends when ``requestStop()`` was called and nothing is left to
/// do; work submitted afterwards starts it again. Whoever uses the loop as an executor keeps it alive meanwhile.
package final class CurlEventLoop: TaskExecutor, @unchecked Sendable {
    /// Work handed to the loop's thread.
    private enum Command: Sendable {
        case job(UnownedJob)
        case startTransfer(
            Ticket, request: HTTPRequest, completion: @Sendable (Result<HTTPResponse, HTTPError>) -> Void)
        case cancelTransfer(id: UInt64)
        case startTimer(Ticket, deadline: ContinuousClock.Instant, completion: @Sendable (Bool) -> Void)
        case cancelTimer(id: UInt64)
    }

    /// A transfer's or timer's identity and cancellation flag. The flag is set before the cancel command is sent,
    /// so a start command that the loop runs after its cancellation sees it; a cancel command for something
    /// unknown (finished, or not started yet) is then simply ignored.
    private final class Ticket: Sendable {
        let id: UInt64
        private let flag = Atomic<Bool>(false)

        init(id: UInt64) { self.id = id }

        var isCancelled: Bool { flag.load(ordering: .acquiring) }

        func cancel() { flag.store(true, ordering: .releasing) }
    }

    private struct Inbox {
        var commands: [Command] = []
        /// The thread waits in `curl_multi_poll`: a new command must wake it.
        var sleeping = false
        var threadRunning = false
        var stopRequested = false
    }

    private struct ActiveTransfer {
        let id: UInt64
        let handle: CurlEasyHandle
        let completion: @Sendable (Result<HTTPResponse, HTTPError>) -> Void
    }

    private struct PendingTimer {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let completion: @Sendable (Bool) -> Void
    }

    private let options: CurlTransport.Options
    private let name: String
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let nextID = Atomic<UInt64>(1)

    // Touched by the loop's thread only.
    private var transfers: [UnsafeMutableRawPointer: ActiveTransfer] = [:]
    private var transferHandles: [UInt64: UnsafeMutableRawPointer] = [:]
    private var idleHandles: [CurlEasyHandle] = []
    private var timers: [PendingTimer] = []

    /// Creates a loop; its thread starts with the first piece of work.
    /// - Parameters:
    ///   - options: Proxy, TLS and user-agent settings of every transfer.
    ///   - name: The thread's name (at most 15 bytes are kept), as `top -H` shows it.
    package init(options: CurlTransport.Options = .init(), name: String = "imdswatch-curl") {
        CurlGlobal.ensureInitialized()
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed: out of memory")
        }
        self.multi = multi
        self.options = options
        self.name = name
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// A clock whose sleeps are timers of this loop: a task running on the loop wakes up without a thread hop.
    package var clock: EventLoopClock { EventLoopClock(loop: self) }

    /// Lets the thread end once no transfer, timer or job is left.
    package func requestStop() {
        let wake = inbox.withLock { inbox in
            inbox.stopRequested = true
            defer { inbox.sleeping = false }
            return inbox.sleeping
        }
        if wake { curl_multi_wakeup(multi) }
    }

    // MARK: TaskExecutor

    package func enqueue(_ job: consuming ExecutorJob) {
        submit(.job(UnownedJob(job)))
    }

    // MARK: Transfers and timers

    // Both continuations below are resumed exactly once: by the completion or the cancellation of their command,
    // which the loop removes when it runs either (unsafe continuations: no checking box allocated per request).

    /// Runs one exchange on the loop.
    /// - Returns: The response or why there is none; ``HTTPError/Code/cancelled`` when the task was cancelled.
    func perform(_ request: HTTPRequest) async -> Result<HTTPResponse, HTTPError> {
        let ticket = Ticket(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        if Task.isCancelled {
            return .failure(HTTPError(code: .cancelled, detail: "cancelled", url: request.url))
        }
        return await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                submit(.startTransfer(ticket, request: request) { continuation.resume(returning: $0) })
            }
        } onCancel: {
            ticket.cancel()
            submit(.cancelTransfer(id: ticket.id))
        }
    }

    /// Suspends until `deadline` on the loop's timer.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: ContinuousClock.Instant) async throws {
        let ticket = Ticket(id: nextID.wrappingAdd(1, ordering: .relaxed).oldValue)
        try Task.checkCancellation()
        let fired = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                submit(.startTimer(ticket, deadline: deadline) { continuation.resume(returning: $0) })
            }
        } onCancel: {
            ticket.cancel()
            submit(.cancelTimer(id: ticket.id))
        }
        if !fired { throw CancellationError() }
    }

    private func submit(_ command: Command) {
        let (wake, spawn) = inbox.withLock { inbox in
            inbox.commands.append(command)
            let wake = inbox.sleeping
            inbox.sleeping = false
            let spawn = !inbox.threadRunning
            inbox.threadRunning = true
            return (wake, spawn)
        }
        if wake { curl_multi_wakeup(multi) }
        if spawn { startThread() }
    }

    // MARK: The thread

    private func startThread() {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(
            &thread, &attributes,
            { context in
                guard let context else { return nil }
                let loop = Unmanaged<CurlEventLoop>.fromOpaque(context).takeRetainedValue()
                loop.run()
                return nil
            }, context)
        if result != 0 {
            fatalError("cannot start the libcurl event loop thread: error \(result)")
        }
    }

    private func run() {
        nameThread()
        var commands: [Command] = []
        while true {
            let finished = inbox.withLock { inbox in
                swap(&commands, &inbox.commands)
                guard commands.isEmpty, inbox.stopRequested, transfers.isEmpty, timers.isEmpty else { return false }
                inbox.threadRunning = false
                return true
            }
            if finished { return }
            for command in commands { apply(command) }
            commands.removeAll(keepingCapacity: true)

            if !transfers.isEmpty {
                var running: Int32 = 0
                curl_multi_perform(multi, &running)
                completeFinishedTransfers()
            }
            // One clock read serves both: firing only removes timers, it never adds one.
            let now = timers.isEmpty ? nil : ContinuousClock.now
            if let now { fireDueTimers(now: now) }

            let timeout = pollTimeoutMilliseconds(now: now)
            let wait = inbox.withLock { inbox in
                guard inbox.commands.isEmpty, !(inbox.stopRequested && transfers.isEmpty && timers.isEmpty) else {
                    return false
                }
                inbox.sleeping = true
                return true
            }
            if wait {
                var ready: Int32 = 0
                curl_multi_poll(multi, nil, 0, timeout, &ready)
                inbox.withLock { $0.sleeping = false }
            }
        }
    }

    /// Names the calling thread (`pthread_setname_np` needs `_GNU_SOURCE`; its `/proc` file does not).
    private func nameThread() {
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private func apply(_ command: Command) {
        switch command {
        case .job(let job):
            job.runSynchronously(on: asUnownedTaskExecutor())
        case .startTransfer(let ticket, let request, let completion):
            if ticket.isCancelled {
                completion(.failure(HTTPError(code: .cancelled, detail: "cancelled", url: request.url)))
                return
            }
            let handle = idleHandles.popLast() ?? CurlEasyHandle(options: options)
            handle.prepare(request)
            transfers[handle.pointer] = ActiveTransfer(id: ticket.id, handle: handle, completion: completion)
            transferHandles[ticket.id] = handle.pointer
            curl_multi_add_handle(multi, handle.pointer)
        case .cancelTransfer(let id):
            // Unknown: finished already, or not started yet (its start sees the ticket's flag).
            guard let pointer = transferHandles.removeValue(forKey: id),
                let transfer = transfers.removeValue(forKey: pointer)
            else { return }
            curl_multi_remove_handle(multi, pointer)
            let error = transfer.handle.cancelled()
            recycle(transfer.handle)
            transfer.completion(.failure(error))
        case .startTimer(let ticket, let deadline, let completion):
            if ticket.isCancelled {
                completion(false)
                return
            }
            let timer = PendingTimer(id: ticket.id, deadline: deadline, completion: completion)
            let index = timers.firstIndex { $0.deadline > deadline } ?? timers.endIndex
            timers.insert(timer, at: index)
        case .cancelTimer(let id):
            // Unknown: fired already, or not started yet (its start sees the ticket's flag).
            guard let index = timers.firstIndex(where: { $0.id == id }) else { return }
            timers.remove(at: index).completion(false)
        }
    }

    private func completeFinishedTransfers() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard imdswatch_curl_msg_is_done(message) != 0, let pointer = message.pointee.easy_handle else { continue }
            let code = imdswatch_curl_msg_result(message)
            guard let transfer = transfers.removeValue(forKey: pointer) else { continue }
            transferHandles.removeValue(forKey: transfer.id)
            curl_multi_remove_handle(multi, pointer)
            let result = transfer.handle.finish(code)
            recycle(transfer.handle)
            transfer.completion(result)
        }
    }

    private func fireDueTimers(now: ContinuousClock.Instant) {
        var due = 0
        while due < timers.count, timers[due].deadline <= now { due += 1 }
        guard due > 0 else { return }
        let fired = timers[..<due]
        timers.removeFirst(due)
        for timer in fired { timer.completion(true) }
    }

    /// Until the next timer (rounded up to whole milliseconds); libcurl shortens it for its own timeouts.
    /// - Parameter now: The time read this iteration; `nil` when there was no timer.
    private func pollTimeoutMilliseconds(now: ContinuousClock.Instant?) -> Int32 {
        let idle: Int32 = 60_000
        guard let now, let next = timers.first else { return idle }
        let remaining = now.duration(to: next.deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: min(milliseconds, Int64(idle)))
    }

    private func recycle(_ handle: CurlEasyHandle) {
        if idleHandles.count < options.maxIdleHandles { idleHandles.append(handle) }
    }
}

/// A `Clock` on the continuous clock's time line whose sleeps are timers of a ``CurlEventLoop``.
package struct EventLoopClock: Clock {
    package typealias Instant = ContinuousClock.Instant

    /// The loop whose timers this clock's sleeps are.
    package let loop: CurlEventLoop

    package var now: Instant { ContinuousClock.now }

    package var minimumResolution: Duration { .milliseconds(1) }

    package func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try await loop.sleep(until: deadline)
    }
}

/// `curl_global_init` must run once, before any other thread uses libcurl.
enum CurlGlobal {
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func ensureInitialized() {
        _ = initialized
    }
}
