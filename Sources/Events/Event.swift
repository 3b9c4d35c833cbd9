/// The EC2 instance an event is about, as carried in every payload.
public struct InstanceInfo: Sendable, Equatable, Codable {
    public var instanceID: String
    public var instanceType: String
    public var region: String
    public var availabilityZone: String
    public var accountID: String

    /// Creates instance information; unknown fields are empty strings.
    public init(instanceID: String, instanceType: String, region: String, availabilityZone: String, accountID: String) {
        self.instanceID = instanceID
        self.instanceType = instanceType
        self.region = region
        self.availabilityZone = availabilityZone
        self.accountID = accountID
    }

    /// Used when the identity document could not be read yet.
    public static let unknown = InstanceInfo(instanceID: "", instanceType: "", region: "", availabilityZone: "", accountID: "")

    /// The `instance` object of the payload.
    public var json: JSONValue {
        [
            "instance_id": .string(instanceID),
            "instance_type": .string(instanceType),
            "region": .string(region),
            "availability_zone": .string(availabilityZone),
            "account_id": .string(accountID),
        ]
    }
}

/// One detected lifecycle occurrence: what hooks read on stdin and webhooks receive.
public struct Event: Sendable, Equatable {
    /// The payload schema name.
    public static let schema = "imdswatch.event/v1"

    /// A stable id of this occurrence, the same across restarts.
    public var id: String
    /// The event type.
    public var type: EventType
    /// When imdswatch detected it, in milliseconds since the Unix epoch.
    public var detectedAtMilliseconds: Int64
    /// The metadata path it came from (relative to `/latest/`).
    public var source: String
    /// The instance.
    public var instance: InstanceInfo
    /// The type-specific fields (an object).
    public var data: JSONValue
    /// The previous fields, or `.null`.
    public var previous: JSONValue
    /// `true` for events made by `hooks test`.
    public var synthetic: Bool

    /// Creates an event.
    public init(
        id: String,
        type: EventType,
        detectedAtMilliseconds: Int64,
        source: String? = nil,
        instance: InstanceInfo,
        data: JSONValue,
        previous: JSONValue = .null,
        synthetic: Bool = false
    ) {
        self.id = id
        self.type = type
        self.detectedAtMilliseconds = detectedAtMilliseconds
        self.source = source ?? type.source.path
        self.instance = instance
        self.data = data
        self.previous = previous
        self.synthetic = synthetic
    }

    /// `detected_at`: RFC 3339 UTC with milliseconds.
    public var detectedAt: String {
        Timestamp.rfc3339Milliseconds(detectedAtMilliseconds)
    }

    /// The deadline hooks see in `IMDSWATCH_DEADLINE`: the spot action time, or a maintenance event's `not_before`.
    public var deadline: String? {
        switch type {
        case .spotInterruption: data["time"]?.stringValue
        case .maintenanceScheduled, .maintenanceChanged, .maintenanceCleared: data["not_before"]?.stringValue
        default: nil
        }
    }

    /// The v1 payload as a JSON value.
    public var payload: JSONValue {
        [
            "schema": .string(Event.schema),
            "id": .string(id),
            "type": .string(type.rawValue),
            "detected_at": .string(detectedAt),
            "source": .string(source),
            "instance": instance.json,
            "data": data,
            "previous": previous,
            "synthetic": .bool(synthetic),
        ]
    }

    /// The v1 payload as UTF-8 JSON bytes: the hooks' stdin and the `json` webhook body.
    public func payloadBytes() -> [UInt8] {
        Array(payload.serialized().utf8)
    }
}

/// Receives every detected event: the hooks runner, the journal and the webhooks plug in here.
public protocol EventSink: Sendable {
    /// Takes one event. Returns once the event is safely handed over (queued or persisted), not when all work on it
    /// has finished; must never throw or block the poll loop for long.
    func deliver(_ event: Event) async
}
