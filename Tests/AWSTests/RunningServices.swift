import Lifecycle
import Synchronization

/// The `run()` tasks of the services a test made, so that each can be stopped (cancelled, as at shutdown) and
/// awaited, and all are cancelled when the test's fixture goes.
final class RunningServices: Sendable {
    private let tasks = Mutex<[ObjectIdentifier: Task<Void, Never>]>([:])

    /// Starts `actions.run()`.
    func start(_ actions: LifecycleActions) {
        let task = Task<Void, Never> { try? await actions.run() }
        tasks.withLock { $0[ObjectIdentifier(actions)] = task }
    }

    /// Cancels `actions.run()` (a shutdown) and waits for it to return.
    func stop(_ actions: LifecycleActions) async {
        let task = tasks.withLock { $0.removeValue(forKey: ObjectIdentifier(actions)) }
        task?.cancel()
        await task?.value
    }

    /// Cancels every run still going.
    func cancelAll() {
        tasks.withLock { tasks in
            for task in tasks.values { task.cancel() }
            tasks.removeAll()
        }
    }
}
