import Events

/// What the event journal holds that each consumer has not acknowledged yet, read from the file without changing it
/// (`imdswatch status` reads it beside a running daemon: no compaction, no move-aside, no lock).
package struct JournalBacklog: Sendable, Equatable {
    /// A consumer as the backlog sees it: its name and the events it owes an acknowledgement for.
    package struct Role: Sendable {
        /// Its name in the journal (`lifecycle`, `hooks`, `webhooks`).
        package var name: String
        /// Whether it takes the event at all (see ``JournalConsumer/handles(_:)``).
        package var handles: @Sendable (Event) -> Bool

        /// Creates a role.
        package init(name: String, handles: @escaping @Sendable (Event) -> Bool = { _ in true }) {
            self.name = name
            self.handles = handles
        }

        /// The role of a running consumer.
        package init(_ consumer: any JournalConsumer) {
            self.init(name: consumer.name, handles: { consumer.handles($0) })
        }
    }

    /// One consumer's unacknowledged events.
    package struct Owed: Sendable, Equatable {
        /// The consumer's name.
        package var consumer: String
        /// How many events it has not acknowledged.
        package var events: Int
        /// When the oldest of them was detected, in milliseconds since the Unix epoch (`nil`: none).
        package var oldestDetectedAtMilliseconds: Int64?
    }

    /// Per role, in the order given.
    package var owed: [Owed]

    /// Reads `directory/events.journal` (a missing file owes nothing; a torn or damaged tail is ignored here: the
    /// daemon reports and repairs it at its next start).
    /// - Parameters:
    ///   - directory: The state directory.
    ///   - roles: The consumers to report on.
    /// - Throws: `SafeFile.Failure` when the file cannot be read.
    package static func read(directory: String, roles: [Role]) throws(SafeFile.Failure) -> JournalBacklog {
        let path = directory + "/" + EventJournal.fileName
        let records =
            try SafeFile.readRegularFileIfPresent(path, limit: 256 << 20).map { JournalRecord.read($0).records } ?? []
        var events: [String: Event] = [:]
        var order: [String] = []
        var acks: [String: Set<String>] = [:]
        for record in records {
            switch record {
            case .detected(let detected, _):
                for event in detected where events[event.id] == nil {
                    events[event.id] = event
                    order.append(event.id)
                }
            case .acknowledged(let consumer, let eventID, _):
                acks[eventID, default: []].insert(consumer)
            }
        }
        return JournalBacklog(
            owed: roles.map { role in
                let owing = order.compactMap { events[$0] }.filter {
                    role.handles($0) && acks[$0.id]?.contains(role.name) != true
                }
                return Owed(
                    consumer: role.name, events: owing.count,
                    oldestDetectedAtMilliseconds: owing.map(\.detectedAtMilliseconds).min())
            })
    }
}
