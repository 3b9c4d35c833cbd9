import Foundation

/// One pending delivery as stored in `<state dir>/outbox/`: everything needed to send it again after a restart.
///
/// The signature is not stored: it is computed at each attempt with the endpoint's current secret. Neither are the
/// URL and the endpoint's extra headers (they may hold credentials); the entry names its endpoint by ``endpointID``.
public struct OutboxEntry: Sendable, Equatable, Codable {
    /// Orders deliveries: increasing across the outbox's lifetime, restarts included.
    public var sequence: UInt64
    /// ``WebhookEndpoint/id`` of the receiver.
    public var endpointID: String
    /// The event id (`X-Imdswatch-Delivery`).
    public var eventID: String
    /// The event type (`X-Imdswatch-Event`).
    public var eventType: String
    /// The exact body bytes.
    public var body: [UInt8]
    /// The `Content-Type`.
    public var contentType: String
    /// When the delivery was created, in milliseconds since the Unix epoch.
    public var createdAtMilliseconds: Int64
    /// Attempts made so far.
    public var attempts: Int
    /// The earliest time of the next attempt, in milliseconds since the Unix epoch.
    public var nextAttemptMilliseconds: Int64

    /// Creates an entry.
    public init(
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
    public var fileName: String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits + "-" + endpointID + ".json"
    }

    private enum CodingKeys: String, CodingKey {
        case version, sequence, endpointID = "endpoint_id", eventID = "event_id", eventType = "event_type"
        case body, contentType = "content_type", createdAtMilliseconds = "created_at_ms", attempts
        case nextAttemptMilliseconds = "next_attempt_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let version = try container.decode(Int.self, forKey: .version)
        guard version == 1 else {
            throw DecodingError.dataCorruptedError(forKey: .version, in: container, debugDescription: "unknown version \(version)")
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

    public func encode(to encoder: any Encoder) throws {
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
