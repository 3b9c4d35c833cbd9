import Events
import Foundation
import Synchronization

/// The demo's observer of the daemon's parts: an ``EventSink`` placed first in the daemon's fan-out (it prints each
/// event on the timeline and runs nothing) and the receiver of the hook dispatcher's ended sequences. The scenario
/// driver awaits each expected event and the end of its hooks here.
actor DemoEventRecorder: EventSink {
    private let timeline: DemoTimeline
    private var unclaimed: [Event] = []
    private var waiters: [Int: (type: EventType, continuation: CheckedContinuation<Event?, Never>)] = [:]
    private var nextWaiter = 0
    private var ended: Set<String> = []
    private var endWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Creates a recorder printing to `timeline`.
    init(timeline: DemoTimeline) {
        self.timeline = timeline
    }

    /// Prints the event and wakes whoever awaits an event of its type.
    func deliver(_ event: Event) async {
        timeline.fired(event)
        if let (id, waiter) = waiters.first(where: { $0.value.type == event.type }) {
            waiters[id] = nil
            waiter.continuation.resume(returning: event)
        } else {
            unclaimed.append(event)
        }
    }

    /// Records that the daemon's hook dispatcher ended the sequence of this event (the lifecycle actions were told
    /// first), and wakes whoever waits for it.
    func sequenceEnded(_ eventID: String) {
        ended.insert(eventID)
        releaseEndWaiters(eventID)
    }

    private func releaseEndWaiters(_ eventID: String) {
        for waiter in endWaiters.removeValue(forKey: eventID) ?? [] { waiter.resume() }
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

    /// Waits until the daemon's hook sequence of this event has ended, or the calling task is cancelled.
    func hooksFinished(for eventID: String) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if ended.contains(eventID) || Task.isCancelled {
                    continuation.resume()
                } else {
                    endWaiters[eventID, default: []].append(continuation)
                }
            }
        } onCancel: {
            Task { await self.releaseEndWaiters(eventID) }
        }
    }

    /// Events delivered that nobody awaited (fired although the scenario did not expect them).
    var unexpectedEvents: [Event] { unclaimed }

    private func cancelWaiter(_ id: Int) {
        waiters.removeValue(forKey: id)?.continuation.resume(returning: nil)
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
