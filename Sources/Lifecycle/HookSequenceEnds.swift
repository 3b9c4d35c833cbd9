import Events
import Synchronization

/// Where a lifecycle action waits for its event's hook sequence to end: ``LifecycleActions/sequenceEnded(_:results:)``
/// hands the outcome over, the action's function takes it. A value handed over before anyone waits is kept for
/// the waiter; a waiter whose task is cancelled (shutdown) gets ``Outcome/cancelled`` at once.
final class HookSequenceEnds: Sendable {
    /// How the wait ended.
    enum Outcome: Sendable, Equatable {
        /// The hooks ended; the action is completed with this result.
        case ended(LifecycleActionResult)
        /// The hooks were cut short by a stop: the action stays pending for the next start.
        case cutShort
        /// The waiting task was cancelled (shutdown): the action stays pending for the next start.
        case cancelled
    }

    private enum Slot {
        case waiting(CheckedContinuation<Outcome, Never>)
        case ended(Outcome)
    }

    private let slots = Mutex<[String: Slot]>([:])

    /// Waits for the end of `eventID`'s hook sequence (or for cancellation).
    func wait(for eventID: String) async -> Outcome {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Outcome? = slots.withLock { slots in
                    if case .ended(let outcome)? = slots[eventID] {
                        slots[eventID] = nil
                        return outcome
                    }
                    if Task.isCancelled { return .cancelled }
                    slots[eventID] = .waiting(continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            resume(eventID, with: .cancelled, keep: false)
        }
    }

    /// Hands `outcome` to the task waiting for `eventID`, or keeps it for the next ``wait(for:)`` when `keep`.
    func end(_ eventID: String, with outcome: Outcome, keep: Bool) {
        resume(eventID, with: outcome, keep: keep)
    }

    /// Forgets an outcome kept for `eventID` that nobody took (its action ended another way).
    func discard(_ eventID: String) {
        slots.withLock { slots in
            if case .ended? = slots[eventID] { slots[eventID] = nil }
        }
    }

    private func resume(_ eventID: String, with outcome: Outcome, keep: Bool) {
        let waiter: CheckedContinuation<Outcome, Never>? = slots.withLock { slots in
            if case .waiting(let continuation)? = slots[eventID] {
                slots[eventID] = nil
                return continuation
            }
            if keep { slots[eventID] = .ended(outcome) }
            return nil
        }
        waiter?.resume(returning: outcome)
    }
}
