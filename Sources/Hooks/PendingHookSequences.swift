import Durability
import Events
import Logging

/// The durable record of hook sequences that have not finished: `<state dir>/hooks-pending/<event>.json`, one file per
/// event, holding the event and the hooks that already ran to the end.
///
/// The dispatcher records an event (fsynced) before it returns from `deliver`, which the poll loop calls before it
/// saves the state that says the event fired; it notes each hook that ended and removes the record when the sequence
/// is over. After a crash or SIGKILL, the next start runs the hooks not noted as ended (a hook that was running when
/// the daemon died runs again: at least once), unless the event's deadline has passed.
package actor PendingHookSequences {
    /// One unfinished sequence.
    package struct Pending: Sendable, Equatable {
        /// The event.
        package var event: Event
        /// The hooks (paths relative to `hooks.d`) that already ran to the end.
        package var done: [String]
    }

    /// The directory of records.
    package nonisolated let directory: String
    private let logger: Logger
    private var records: [String: Pending] = [:]
    private var writable = true

    /// Creates the store; the directory is created (mode 0700) on the first record.
    /// - Parameters:
    ///   - directory: Usually `<state dir>/hooks-pending`.
    ///   - logger: Where write failures and unreadable records are reported.
    package init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Records that `event`'s hooks are about to run; on disk when this returns.
    /// - Returns: `false` when a sequence for this event is already pending (it is not recorded twice).
    package func record(_ event: Event) -> Bool {
        if records[event.id] != nil { return false }
        let pending = Pending(event: event, done: [])
        records[event.id] = pending
        persist(pending)
        return true
    }

    /// Notes that `hook` (its path relative to `hooks.d`) of event `eventID` ran to the end.
    package func markDone(eventID: String, hook: String) {
        guard var pending = records[eventID] else { return }
        pending.done.append(hook)
        records[eventID] = pending
        persist(pending)
    }

    /// Removes the record of a finished sequence.
    package func finish(eventID: String) {
        guard records.removeValue(forKey: eventID) != nil, writable else { return }
        do {
            try SafeFile.remove(directory: directory, name: Self.fileName(eventID))
        } catch {
            logger.error("pending hooks: \(error)")
        }
    }

    /// The sequences an earlier run left unfinished, oldest first; unreadable records are moved aside (warning).
    package func load() -> [Pending] {
        let loaded: [Pending]
        do {
            loaded = try SafeFile.loadRecords(in: directory, limit: 4 << 20) { bytes, name in
                guard let json = try? JSONDocument.parse(String(decoding: bytes, as: UTF8.self)),
                    let pending = Self.decode(json), Self.fileName(pending.event.id) == name
                else { return nil }
                return pending
            } corrupt: { path in
                logger.warning("pending hooks record \(path) is unreadable; moved aside to \(path).corrupt")
            }
        } catch {
            logger.error("pending hooks: \(error)")
            return []
        }
        for pending in loaded { records[pending.event.id] = pending }
        return loaded.sorted { $0.event.detectedAtMilliseconds < $1.event.detectedAtMilliseconds }
    }

    private func persist(_ pending: Pending) {
        guard writable else { return }
        do {
            try SafeFile.makeDirectory(directory, parents: true)
            var record = pending.event.journalObject
            record.append("done", .array(pending.done.map(JSONValue.string)))
            try SafeFile.writeDurably(
                Array(record.text.utf8), directory: directory, name: Self.fileName(pending.event.id))
        } catch {
            writable = false
            logger.error(
                "pending hooks kept in memory only, an unfinished sequence will not resume after a restart: \(error)",
                metadata: [LogField.eventID: "\(pending.event.id)"]
            )
        }
    }

    /// A file name for an event id: its UTF-8 bytes in hex (ids may hold any character).
    static func fileName(_ eventID: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in eventID.utf8.prefix(100) {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self) + ".json"
    }

    static func decode(_ json: JSONValue) -> Pending? {
        guard let event = Event(journalJSON: json), case .array(let doneValues)? = json["done"] else { return nil }
        return Pending(event: event, done: doneValues.compactMap(\.stringValue))
    }
}
