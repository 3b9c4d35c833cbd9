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
        var leftoverSweeps: [Int: Task<Void, Never>] = [:]
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
            state.runs[id] = Run(startTicks: now &- 1, deadlineTicks: now.addingReportingOverflow(HookFileSystem.ticks(in: timeout)).partialValue)
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
    @discardableResult
    func end(_ id: Int, grace: Duration) async -> Int {
        let group = state.withLock { $0.runs[id]?.hook }
        let first = members(of: id)
        for entry in first { HookFileSystem.signalProcess(entry, HookFileSystem.terminateSignal) }
        if let group { HookFileSystem.signalProcessGroup(group, HookFileSystem.terminateSignal) }
        let clock = ContinuousClock()
        let killAt = clock.now + grace
        while clock.now < killAt, !members(of: id).isEmpty {
            await Self.uncancelledSleep(min(.milliseconds(50), killAt - clock.now))
        }
        for entry in members(of: id) { HookFileSystem.signalProcess(entry, HookFileSystem.killSignal) }
        if let group { HookFileSystem.signalProcessGroup(group, HookFileSystem.killSignal) }
        // SIGKILL cannot be refused: wait until they are gone, reaping the adopted ones (bounded, in case one is
        // stuck in the kernel).
        let reapBy = clock.now + .seconds(5)
        while clock.now < reapBy, !members(of: id).isEmpty {
            await Self.uncancelledSleep(.milliseconds(20))
        }
        return first.count
    }

    /// Ends run `id`'s processes when its timeout is up (or at once when the wait is cancelled through
    /// ``endLeftoversNow()``), then forgets the run. Does nothing but forget when it owns nothing now.
    /// - Parameter onEnd: Called before the processes are ended, with how many there are.
    func endLeftovers(of id: Int, grace: Duration, onEnd: @escaping @Sendable (Int) -> Void) {
        guard !members(of: id).isEmpty else {
            deregister(id)
            return
        }
        let deadline = state.withLock { $0.runs[id]?.deadlineTicks } ?? 0
        let task = Task.detached {
            let now = HookFileSystem.ticksSinceBoot()
            if deadline > now {
                try? await Task.sleep(for: HookFileSystem.duration(ofTicks: deadline - now))
            }
            let remaining = self.members(of: id).count
            if remaining > 0 {
                onEnd(remaining)
                await self.end(id, grace: grace)
            }
            self.state.withLock { state in
                state.runs.removeValue(forKey: id)
                state.leftoverSweeps.removeValue(forKey: id)
            }
        }
        state.withLock { $0.leftoverSweeps[id] = task }
    }

    /// Waits until every run's leftover processes have been ended at its timeout; when the calling task is
    /// cancelled, ends them at once and waits for that.
    func waitForLeftovers() async {
        let sweeps = state.withLock { Array($0.leftoverSweeps.values) }
        await withTaskCancellationHandler {
            for sweep in sweeps { await sweep.value }
        } onCancel: {
            for sweep in sweeps { sweep.cancel() }
        }
    }

    /// Whether `entry`, a child of this process, was adopted: not a hook this process spawned (a hook leads its own
    /// group in this process's session; a child still in this process's group is a hook between fork and
    /// `setpgid`).
    private static func isAdopted(
        _ entry: HookFileSystem.ProcessEntry, own: (pid: Int32, processGroup: Int32, session: Int32), hooks: Set<Int32>
    ) -> Bool {
        guard entry.parent == own.pid, !hooks.contains(entry.pid), entry.processGroup != own.processGroup else { return false }
        return !(entry.session == own.session && entry.processGroup == entry.pid)
    }

    /// The run an adopted process belongs to: of the runs that started before it, the one whose timeout comes last.
    private static func owner(of entry: HookFileSystem.ProcessEntry, among runs: [Int: Run]) -> Int? {
        runs.filter { $0.value.startTicks <= entry.startTicks }
            .max { ($0.value.deadlineTicks, $0.key) < ($1.value.deadlineTicks, $1.key) }?.key
    }

    /// Sleeps in a task of its own, so that a cancelled caller still waits the whole step.
    private static func uncancelledSleep(_ duration: Duration) async {
        await Task { try? await Task.sleep(for: duration) }.value
    }
}
