import Synchronization

/// The processes each hook run owns, found again when the run must end them (its timeout, a shutdown, a
/// cancelled `hooks test`), even those that left the hook's process group with `setsid`.
///
/// How a run's processes are found (one `/proc` walk each time):
/// - the hook and every descendant of it (by parent pid);
/// - every process in the hook's process group (`cmd &`) and their descendants;
/// - every process this process *adopted* (see below) that started while a run could have started it, and their
///   descendants. The process is a child subreaper (`PR_SET_CHILD_SUBREAPER`, set by ``HookRunner/init``), so an
///   orphan (a `setsid cmd &` whose parent exited) is re-parented here, not to PID 1. An adopted process belongs
///   to the run, among those that started before it, whose timeout comes last: it is never ended before the
///   timeout of the hook that started it, at worst later (when several hooks ran at once).
///
/// Adopted processes that exit are reaped whenever the table is read (at the latest at the owning run's timeout).
/// Under systemd the unit's cgroup ends whatever is left when the service stops (`KillMode=control-group`).
///
/// What a finished run left behind is ended at its timeout by a *sweep*, a child task of whoever owns the sweeps:
/// ``sweepLeftovers()`` (the hook dispatcher's `run()`, for as long as the daemon runs) or ``waitForLeftovers()``
/// (`hooks test`, before it exits). Nothing sweeps while neither runs.
///
/// Process-wide (``shared``), like the subreaper setting and the children it adopts.
final class HookProcessTree: Sendable {
    /// The one tree of this process.
    static let shared = HookProcessTree()

    private struct Run {
        var startTicks: UInt64
        var deadlineTicks: UInt64
        /// The hook's pid, which is also its process group's id; `nil` until spawned.
        var hook: Int32?
        /// The hook itself has been reaped: its pid may be reused, its group id not while the group has members.
        var hookEnded = false
    }

    private struct State {
        var runs: [Int: Run] = [:]
        var nextID = 0
        /// Finished runs whose leftovers wait for a sweep to be started.
        var queuedSweeps: [Int: Sweep] = [:]
        /// ``sweepLeftovers()`` waiting for a sweep to be queued.
        var sweeper: CheckedContinuation<Void, Never>?
    }

    /// How a finished run's leftovers are to be ended.
    private struct Sweep: Sendable {
        var deadlineTicks: UInt64
        var grace: Duration
        var clock: any Clock<Duration>
        var onEnd: @Sendable (Int) -> Void
    }

    private let state = Mutex(State())

    /// Records a run about to spawn its hook, with its timeout (from now).
    /// - Returns: The run's id for the other calls.
    func register(timeout: Duration) -> Int {
        let now = HookFileSystem.ticksSinceBoot()
        return state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            // One tick earlier: a process started in the same tick as the run counts as started within it.
            state.runs[id] = Run(
                startTicks: now &- 1,
                deadlineTicks: now.addingReportingOverflow(HookFileSystem.ticks(in: timeout)).partialValue)
            return id
        }
    }

    /// The hook of run `id` is running as `pid` (its own process group).
    func spawned(_ id: Int, pid: Int32) {
        state.withLock { $0.runs[id]?.hook = pid }
    }

    /// The hook of run `id` has exited and been reaped.
    func hookEnded(_ id: Int) {
        state.withLock { $0.runs[id]?.hookEnded = true }
    }

    /// Forgets run `id`: what it owned is now owned by nobody (or by a run still registered).
    func deregister(_ id: Int) {
        _ = state.withLock { $0.runs.removeValue(forKey: id) }
    }

    /// The live processes run `id` owns now, the hook first (see the type's documentation). Reaps adopted
    /// processes that have exited.
    func members(of id: Int) -> [HookFileSystem.ProcessEntry] {
        let table = HookFileSystem.processTable()
        let own = HookFileSystem.ownIdentity
        let runs = state.withLock { $0.runs }
        guard let run = runs[id] else { return [] }
        let hooks = Set(runs.values.compactMap { $0.hookEnded ? nil : $0.hook })

        var children: [Int32: [HookFileSystem.ProcessEntry]] = [:]
        for entry in table { children[entry.parent, default: []].append(entry) }
        var roots: [HookFileSystem.ProcessEntry] = []
        for entry in table where entry.pid != own.pid && entry.startTicks >= run.startTicks {
            if let hook = run.hook, entry.pid == hook, !run.hookEnded {
                roots.append(entry)
            } else if let hook = run.hook, entry.processGroup == hook {
                roots.append(entry)
            } else if Self.isAdopted(entry, own: own, hooks: hooks) {
                if entry.isZombie {
                    HookFileSystem.reap(entry.pid)
                } else if Self.owner(of: entry, among: runs) == id {
                    roots.append(entry)
                }
            }
        }
        var members: [HookFileSystem.ProcessEntry] = []
        var seen = Set<Int32>()
        var queue = roots[...]
        while let entry = queue.popFirst() {
            guard entry.pid != own.pid, seen.insert(entry.pid).inserted else { continue }
            if !entry.isZombie { members.append(entry) }
            queue.append(contentsOf: children[entry.pid] ?? [])
        }
        return members
    }

    /// Ends run `id`'s processes: SIGTERM to each (and to the hook's process group), then, once they are all gone
    /// or after `grace`, SIGKILL to what is left, read afresh (a process forked in the meantime included).
    /// Runs to the end even when the calling task is cancelled.
    /// - Returns: How many processes got SIGTERM.
    /// - Parameters:
    ///   - id: The run.
    ///   - grace: How long between SIGTERM and SIGKILL, on `clock`.
    ///   - clock: What the grace (and the bounded wait for the killed processes to go) is timed on.
    @discardableResult
    func end(_ id: Int, grace: Duration, clock: any Clock<Duration>) async -> Int {
        let group = state.withLock { $0.runs[id]?.hook }
        let first = members(of: id)
        for entry in first { HookFileSystem.signalProcess(entry, HookFileSystem.terminateSignal) }
        if let group { HookFileSystem.signalProcessGroup(group, HookFileSystem.terminateSignal) }
        var waited = Duration.zero
        while waited < grace, !members(of: id).isEmpty {
            let step = min(.milliseconds(50), grace - waited)
            await Self.uncancelledSleep(step, on: clock)
            waited += step
        }
        for entry in members(of: id) { HookFileSystem.signalProcess(entry, HookFileSystem.killSignal) }
        if let group { HookFileSystem.signalProcessGroup(group, HookFileSystem.killSignal) }
        // SIGKILL cannot be refused: wait until they are gone, reaping the adopted ones (bounded, in case one is
        // stuck in the kernel).
        waited = .zero
        while waited < .seconds(5), !members(of: id).isEmpty {
            await Self.uncancelledSleep(.milliseconds(20), on: clock)
            waited += .milliseconds(20)
        }
        return first.count
    }

    /// Queues the sweep of run `id`'s leftovers: at its timeout (on `clock`) they are ended, then the run is
    /// forgotten. Does nothing but forget the run when it owns nothing now.
    /// - Parameter onEnd: Called before the processes are ended, with how many there are.
    func endLeftovers(of id: Int, grace: Duration, clock: any Clock<Duration>, onEnd: @escaping @Sendable (Int) -> Void)
    {
        guard !members(of: id).isEmpty else {
            deregister(id)
            return
        }
        let sweeper = state.withLock { state -> CheckedContinuation<Void, Never>? in
            let deadline = state.runs[id]?.deadlineTicks ?? 0
            state.queuedSweeps[id] = Sweep(deadlineTicks: deadline, grace: grace, clock: clock, onEnd: onEnd)
            defer { state.sweeper = nil }
            return state.sweeper
        }
        sweeper?.resume()
    }

    /// Sweeps leftovers, each in a child task, as finished runs queue them, until the calling task is cancelled;
    /// then ends at once (SIGTERM, the grace, SIGKILL) those whose timeout has not come yet, and returns when they
    /// are gone.
    func sweepLeftovers() async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                for (id, sweep) in takeQueuedSweeps() {
                    group.addTask { await self.sweep(id, sweep) }
                }
                await waitForQueuedSweep()
            }
            // Cancelled: a sweep queued since the last look (a hook that ended just before the shutdown, before this
            // task ran again) is ended at once too, not left behind.
            for (id, sweep) in takeQueuedSweeps() {
                group.addTask { await self.sweep(id, sweep) }
            }
        }
    }

    /// Sweeps the leftovers queued so far, each at its run's timeout; when the calling task is cancelled, ends them
    /// at once. Returns when they are gone.
    func waitForLeftovers() async {
        await withDiscardingTaskGroup { group in
            for (id, sweep) in takeQueuedSweeps() {
                group.addTask { await self.sweep(id, sweep) }
            }
        }
    }

    private func takeQueuedSweeps() -> [(Int, Sweep)] {
        state.withLock { state in
            defer { state.queuedSweeps.removeAll() }
            return state.queuedSweeps.sorted { $0.key < $1.key }
        }
    }

    /// Returns when a sweep is queued (at once when one is) or the calling task is cancelled.
    private func waitForQueuedSweep() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // The cancellation flag is set before `onCancel` runs: checked under the lock, no wake-up is lost.
                let now = state.withLock { state in
                    if !state.queuedSweeps.isEmpty || Task.isCancelled { return true }
                    state.sweeper = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.sweeper = nil }
                return state.sweeper
            }?.resume()
        }
    }

    /// Waits for the run's timeout (cut short by cancellation), ends what it still owns, forgets it.
    private func sweep(_ id: Int, _ sweep: Sweep) async {
        let now = HookFileSystem.ticksSinceBoot()
        if sweep.deadlineTicks > now {
            try? await sweep.clock.sleep(for: HookFileSystem.duration(ofTicks: sweep.deadlineTicks - now))
        }
        let remaining = members(of: id).count
        if remaining > 0 {
            sweep.onEnd(remaining)
            await end(id, grace: sweep.grace, clock: sweep.clock)
        }
        deregister(id)
    }

    /// Whether `entry`, a child of this process, was adopted: not a hook this process spawned (a hook leads its own
    /// group in this process's session; a child still in this process's group is a hook between fork and
    /// `setpgid`).
    private static func isAdopted(
        _ entry: HookFileSystem.ProcessEntry, own: (pid: Int32, processGroup: Int32, session: Int32), hooks: Set<Int32>
    ) -> Bool {
        guard entry.parent == own.pid, !hooks.contains(entry.pid), entry.processGroup != own.processGroup else {
            return false
        }
        return !(entry.session == own.session && entry.processGroup == entry.pid)
    }

    /// The run an adopted process belongs to: of the runs that started before it, the one whose timeout comes last.
    private static func owner(of entry: HookFileSystem.ProcessEntry, among runs: [Int: Run]) -> Int? {
        runs.filter { $0.value.startTicks <= entry.startTicks }
            .max { ($0.value.deadlineTicks, $0.key) < ($1.value.deadlineTicks, $1.key) }?.key
    }

    /// Sleeps in a task of its own, so that a cancelled caller still waits the whole step.
    private static func uncancelledSleep(_ duration: Duration, on clock: any Clock<Duration>) async {
        // Unstructured: a cancelled task (a run ended by shutdown) cannot sleep, and neither can its children, yet the
        // kill grace must be waited out; the task is awaited at once, so it never outlives this call.
        await Task { try? await clock.sleep(for: duration) }.value
    }
}
