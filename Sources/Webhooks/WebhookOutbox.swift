import Durability
import Events
import Foundation
import Logging

/// The durable queue of pending deliveries in `<state dir>/outbox/`, one file per delivery.
///
/// Every change is on disk (fsynced, directory included) before the call returns, so a delivery survives a crash
/// or SIGKILL from the moment ``add(_:)`` returns. When the directory cannot be written, deliveries are kept in
/// memory only and an error is logged: webhooks still go out, but would not survive a restart.
package actor WebhookOutbox {
    /// The outbox directory.
    package nonisolated let directory: String
    /// The most deliveries kept; adding one more drops the oldest (logged at error).
    package nonisolated let capacity: Int
    /// Outbox files larger than this are treated as corrupt.
    static let maxFileBytes = 4 << 20
    private let logger: Logger
    private var entries: [OutboxEntry] = []
    private var nextSequence: UInt64 = 1
    private var loaded = false
    private var writable = true

    /// Creates an outbox; nothing is read until first use.
    /// - Parameters:
    ///   - directory: Usually `<state dir>/outbox`; created (mode 0700) when missing.
    ///   - capacity: The bound (default 1000).
    ///   - logger: Where corrupt files, drops and write failures are reported.
    package init(directory: String, capacity: Int = 1000, logger: Logger) {
        self.directory = directory
        self.capacity = max(1, capacity)
        self.logger = logger
    }

    /// Reads the directory once: loads every delivery, moves unreadable files aside (`NAME.corrupt`, warning) and
    /// removes temporary files left by a crash. Later calls do nothing.
    /// - Returns: How many deliveries are pending.
    @discardableResult
    package func load() -> Int {
        guard !loaded else { return entries.count }
        loaded = true
        do {
            try SafeFile.makeDirectory(directory, parents: true)
        } catch {
            writable = false
            logger.error("webhook outbox unusable, deliveries will not survive a restart: \(error)")
            return 0
        }
        let decoder = JSONDecoder()
        do {
            entries = try SafeFile.loadRecords(in: directory, limit: Self.maxFileBytes) { bytes, name in
                guard let entry = try? decoder.decode(OutboxEntry.self, from: Data(bytes)), entry.fileName == name
                else { return nil }
                return entry
            } corrupt: { path in
                logger.warning("webhook outbox file \(path) is unreadable; moved aside to \(path).corrupt")
            }
        } catch {
            logger.error("webhook outbox: \(error)")
        }
        entries.sort { $0.sequence < $1.sequence }
        nextSequence = (entries.last?.sequence ?? 0) + 1
        while entries.count > capacity {
            dropOldest(reason: "outbox holds more than \(capacity) deliveries")
        }
        return entries.count
    }

    /// Stores a new delivery durably, giving it the next sequence number (its ``OutboxEntry/sequence`` is ignored),
    /// and drops the oldest delivery when the outbox is full.
    /// - Returns: The stored entry, or `nil` when one for the same endpoint and event is already pending.
    @discardableResult
    package func add(_ entry: OutboxEntry) -> OutboxEntry? {
        load()
        if entries.contains(where: { $0.endpointID == entry.endpointID && $0.eventID == entry.eventID }) {
            return nil
        }
        while entries.count >= capacity {
            dropOldest(reason: "outbox full (\(capacity) deliveries)")
        }
        var stored = entry
        stored.sequence = nextSequence
        nextSequence += 1
        entries.append(stored)
        persist(stored)
        return stored
    }

    /// Rewrites a pending delivery after an attempt (attempt count, next attempt time). Ignored when it was dropped.
    package func update(_ entry: OutboxEntry) {
        guard let index = entries.firstIndex(where: { $0.sequence == entry.sequence }) else { return }
        entries[index] = entry
        persist(entry)
    }

    /// Removes a delivery (delivered or dropped). A missing one is fine.
    package func remove(_ entry: OutboxEntry) {
        entries.removeAll { $0.sequence == entry.sequence }
        guard writable else { return }
        do {
            try SafeFile.remove(directory: directory, name: entry.fileName)
        } catch {
            logger.error("webhook outbox: \(error)")
        }
    }

    /// The oldest pending delivery for an endpoint.
    package func head(endpointID: String) -> OutboxEntry? {
        load()
        return entries.first { $0.endpointID == endpointID }
    }

    /// Every pending delivery, oldest first.
    package func all() -> [OutboxEntry] {
        load()
        return entries
    }

    /// The deliveries in an outbox directory, oldest first, read without changing anything (`imdswatch status`
    /// reads them beside a running daemon); files that cannot be read or decoded are left out (the daemon moves them
    /// aside at its next start). A missing directory holds none.
    /// - Throws: `SafeFile.Failure` when the directory exists but cannot be listed.
    package static func pendingEntries(in directory: String) throws(SafeFile.Failure) -> [OutboxEntry] {
        guard SafeFile.kind(of: directory) != nil else { return [] }
        let decoder = JSONDecoder()
        return try SafeFile.entries(of: directory).filter { $0.hasSuffix(".json") && !SafeFile.isTemporaryName($0) }
            .compactMap { name in
                guard let bytes = try? SafeFile.readRegularFileIfPresent(directory + "/" + name, limit: maxFileBytes)
                else { return nil }
                return try? decoder.decode(OutboxEntry.self, from: Data(bytes))
            }.sorted { $0.sequence < $1.sequence }
    }

    /// How many deliveries are pending.
    package var count: Int {
        load()
        return entries.count
    }

    private func persist(_ entry: OutboxEntry) {
        guard writable else { return }
        do {
            let data = try JSONEncoder().encode(entry)
            try SafeFile.writeDurably([UInt8](data), directory: directory, name: entry.fileName)
        } catch {
            logger.error(
                "webhook delivery kept in memory only, it will not survive a restart: \(error)",
                metadata: [LogField.eventID: "\(entry.eventID)", LogField.eventType: "\(entry.eventType)"]
            )
        }
    }

    private func dropOldest(reason: String) {
        guard let oldest = entries.first else { return }
        logger.error(
            "webhook delivery dropped: \(reason); the oldest pending one goes",
            metadata: [LogField.eventID: "\(oldest.eventID)", LogField.eventType: "\(oldest.eventType)"]
        )
        remove(oldest)
    }
}
