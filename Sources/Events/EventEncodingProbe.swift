import Synchronization

/// A test hook in the event encoder: counts, per event id, how many times an event's `imdswatch.event/v1` payload
/// is encoded (Event+JSON.swift), so that a test can check each event is encoded once on its whole way from
/// detection to the hooks and webhooks.
///
/// Off unless a test calls ``startCounting()``; an encoding then costs one uncontended lock (only when an event is
/// encoded, never per poll).
package enum EventEncodingProbe {
    private static let counts = Mutex<[String: Int]?>(nil)

    /// Starts counting, for the rest of the process (tests count the events they made, by id).
    package static func startCounting() {
        counts.withLock { counts in
            if counts == nil { counts = [:] }
        }
    }

    /// How many times the payload of event `eventID` was encoded since ``startCounting()``.
    package static func encodings(of eventID: String) -> Int {
        counts.withLock { $0?[eventID] ?? 0 }
    }

    /// Notes one encoding of event `eventID`'s payload.
    static func noteEncoding(of eventID: String) {
        counts.withLock { counts in
            counts?[eventID, default: 0] += 1
        }
    }
}
