import Foundation

/// One pending delivery as stored in `<state dir>/outbox/`: everything needed to send it again after a restart.
///
/// The signature is not stored: it is computed at each attempt with the endpoint's current secret. Neither are the
/// URL and the endpoint's extra headers (they may hold credentials); the entry names its endpoint by ``endpointID``.
package struct OutboxEntry: Sendable, Equatable, Codable {
    /// Orders deliveries: increasing across the outbox's lifetime, restarts included.
    package var sequence: UInt64
    /// ``WebhookEndpoint/id`` of the receiver.
    package var endpointID: String
    /// The event id (`X-Imdswatch-Delivery`).
    package var eventID: String
    /// The event type (`X-Imdswatch-Event`).
    package var eventType: String
    /// The exact body bytes.
    package var body: [UInt8]
    /// The `Content-Type`.
    package var contentType: String
    /// When the delivery was created, in milliseconds since the Unix epoch.
    package var createdAtMilliseconds: Int64
    /// Attempts made so far.
    package var attempts: Int
    /// The earliest time of the next attempt, in milliseconds since the Unix epoch.
    package var nextAttemptMilliseconds: Int64

    /// Creates an entry.
    package init(
        sequence: UInt64, endpointID: String, eventID: String, eventType: String, body: [UInt8], contentType: String,
        createdAtMilliseconds: Int64, attempts: Int = 0, nextAttemptMilliseconds: Int64? = nil
    ) {
        self.sequence = sequence
        self.endpointID = endpointID
        self.eventID = eventID
        self.eventType = eventType
        self.body = body
        self.contentType = contentType
        self.createdAtMilliseconds = createdAtMilliseconds
        self.attempts = attempts
        self.nextAttemptMilliseconds = nextAttemptMilliseconds ?? createdAtMilliseconds
    }

    /// `<sequence, 16 digits>-<endpoint id>.json`: names sort in delivery order.
    package var fileName: String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits + "-" + endpointID + ".json"
    }

    private enum CodingKeys: String, CodingKey {
        case version, sequence
        case endpointID = "endpoint_id"
        case eventID = "event_id"
        case eventType = "event_type"
        case body
        case contentType = "content_type"
        case createdAtMilliseconds = "created_at_ms"
        case attempts
        case nextAttemptMilliseconds = "next_attempt_ms"
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .version)
        guard version == 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .version, in: container, debugDescription: "unknown version \(version)")
        }
        sequence = try container.decode(UInt64.self, forKey: .sequence)
        endpointID = try container.decode(String.self, forKey: .endpointID)
        eventID = try container.decode(String.self, forKey: .eventID)
        eventType = try container.decode(String.self, forKey: .eventType)
        body = [UInt8](try container.decode(Data.self, forKey: .body))
        contentType = try container.decode(String.self, forKey: .contentType)
        createdAtMilliseconds = try container.decode(Int64.self, forKey: .createdAtMilliseconds)
        attempts = try container.decode(Int.self, forKey: .attempts)
        nextAttemptMilliseconds = try container.decode(Int64.self, forKey: .nextAttemptMilliseconds)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(1, forKey: .version)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(endpointID, forKey: .endpointID)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(Data(body), forKey: .body)
        try container.encode(contentType, forKey: .contentType)
        try container.encode(createdAtMilliseconds, forKey: .createdAtMilliseconds)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(nextAttemptMilliseconds, forKey: .nextAttemptMilliseconds)
    }
}
