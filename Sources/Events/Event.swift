/// The EC2 instance an event is about, as carried in every payload.
package struct InstanceInfo: Sendable, Equatable, Codable {
    package var instanceID: String
    package var instanceType: String
    package var region: String
    package var availabilityZone: String
    package var accountID: String

    /// Creates instance information; unknown fields are empty strings.
    package init(instanceID: String, instanceType: String, region: String, availabilityZone: String, accountID: String)
    {
        self.instanceID = instanceID
        self.instanceType = instanceType
        self.region = region
        self.availabilityZone = availabilityZone
        self.accountID = accountID
    }

    /// Used when the identity document could not be read yet.
    package static let unknown = InstanceInfo(
        instanceID: "", instanceType: "", region: "", availabilityZone: "", accountID: "")
}

/// One detected lifecycle occurrence: what hooks read on stdin and webhooks receive.
///
/// Typed: its fields are ``detail``'s; the `imdswatch.event/v1` JSON is made only at the edges, once per event, by
/// ``encoded`` (Event+JSON.swift).
package struct Event: Sendable, Equatable {
    /// The payload schema name.
    package static let schema = "imdswatch.event/v1"

    /// A stable id of this occurrence, the same across restarts.
    package var id: String { didSet { encoding = EventEncoding() } }
    /// When imdswatch detected it, in milliseconds since the Unix epoch.
    package var detectedAtMilliseconds: Int64 { didSet { encoding = EventEncoding() } }
    /// The metadata path it came from (relative to `/latest/`).
    package var source: String { didSet { encoding = EventEncoding() } }
    /// The instance.
    package var instance: InstanceInfo { didSet { encoding = EventEncoding() } }
    /// What the event says; its case is the event type.
    package var detail: EventDetail { didSet { encoding = EventEncoding() } }
    /// `true` for events made by `hooks test`.
    package var synthetic: Bool { didSet { encoding = EventEncoding() } }
    /// Where the payload's one encoding is kept once made (``encoded``, Event+JSON.swift): shared by the copies of
    /// this value, so that the journal record, the log line, the hooks and every webhook take the same bytes; a
    /// change to any field above starts a new one. Not part of the event's value (``==`` ignores it).
    var encoding = EventEncoding()

    /// Creates an event.
    /// - Parameters:
    ///   - id: The stable id.
    ///   - detectedAtMilliseconds: The detection time.
    ///   - source: The metadata path (default: the type's source).
    ///   - instance: The instance.
    ///   - detail: The typed fields.
    ///   - synthetic: `true` for `hooks test`.
    package init(
        id: String,
        detectedAtMilliseconds: Int64,
        source: String? = nil,
        instance: InstanceInfo,
        detail: EventDetail,
        synthetic: Bool = false
    ) {
        self.id = id
        self.detectedAtMilliseconds = detectedAtMilliseconds
        self.source = source ?? detail.type.source.path
        self.instance = instance
        self.detail = detail
        self.synthetic = synthetic
    }

    /// The event type.
    package var type: EventType { detail.type }

    /// Whether two events have the same fields (their encodings are not compared: they follow from the fields).
    package static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.id == rhs.id && lhs.detectedAtMilliseconds == rhs.detectedAtMilliseconds && lhs.source == rhs.source
            && lhs.instance == rhs.instance && lhs.detail == rhs.detail && lhs.synthetic == rhs.synthetic
    }

    /// `detected_at`: RFC 3339 UTC with milliseconds.
    package var detectedAt: String {
        Timestamp.rfc3339Milliseconds(detectedAtMilliseconds)
    }

    /// The deadline hooks see in `IMDSWATCH_DEADLINE`: the spot action time, or a maintenance event's `not_before`.
    package var deadline: EventTime? {
        switch detail {
        case .spotInterruption(let notice): notice.time
        case .maintenanceScheduled(let notice), .maintenanceChanged(let notice, _), .maintenanceCleared(let notice):
            notice.notBefore
        case .rebalanceRecommendation, .asgLifecycleState, .tagsChanged: nil
        }
    }

    /// Milliseconds since the Unix epoch of ``deadline``, or `nil` (no deadline, or not a date).
    package var deadlineMilliseconds: Int64? {
        deadline?.epochSeconds.map { $0 * 1000 }
    }

    /// The Auto Scaling group and lifecycle hook of an `asg-lifecycle-state` event once the lifecycle stage has
    /// looked them up; `nil` for other types and as detected. Setting it on another type changes nothing.
    package var lifecycleTarget: LifecycleTarget? {
        get {
            guard case .asgLifecycleState(let change) = detail else { return nil }
            return change.target
        }
        set {
            guard case .asgLifecycleState(var change) = detail else { return }
            change.target = newValue
            detail = .asgLifecycleState(change)
        }
    }

    /// The lifecycle state change of an `asg-lifecycle-state` event, `nil` for other types.
    package var lifecycleStateChange: LifecycleStateChange? {
        guard case .asgLifecycleState(let change) = detail else { return nil }
        return change
    }
}

/// Receives every detected event: the hooks runner, the journal and the webhooks plug in here.
package protocol EventSink: Sendable {
    /// Takes one event. Returns once the event is safely handed over (queued or persisted), not when all work on it
    /// has finished; must never throw or block the poll loop for long.
    func deliver(_ event: Event) async
}
