import Synchronization

/// The one JSON encoder (and decoder) of events: the `imdswatch.event/v1` payload that hooks read on stdin and the
/// `json` webhook sends, whose text every other edge (webhook formats, the detection log line, the state directory's
/// records) takes from here. Nothing else reads or writes event fields as JSON.
///
/// An event is encoded once: ``encoded`` makes the payload's text on first use and keeps it with the event value, so
/// that its copies on the way from detection to the edges (the journal record, the log line, `hooks-pending/`, the
/// hooks' stdin, every webhook body) all take those bytes; a change to a field (the lifecycle stage adds the group)
/// encodes anew. ``EventEncodingProbe`` counts the encodings in tests.
extension Event {
    /// The event's JSON as the edges take it, encoded once for this value (see the extension's documentation).
    package var encoded: EncodedEvent {
        encoding.value { encode() }
    }

    /// The v1 payload as a JSON value, read back from ``encoded`` (webhook templates' context): not encoded again.
    package var payload: JSONValue {
        // The text is this package's own serialization, which always parses.
        (try? JSONDocument.parse(encoded.payload)) ?? .null
    }

    /// The v1 payload as UTF-8 JSON bytes: the hooks' stdin and the `json` webhook body.
    package func payloadBytes() -> [UInt8] {
        Array(encoded.payload.utf8)
    }

    /// The encoder: the payload's text, with its `data` member's text (made once, and placed in the payload as it is).
    private func encode() -> EncodedEvent {
        EventEncodingProbe.noteEncoding(of: id)
        let data = detail.dataJSON.serialized()
        var payload = JSONObjectText()
        payload.append("schema", .string(Event.schema))
        payload.append("id", .string(id))
        payload.append("type", .string(type.rawValue))
        payload.append("detected_at", .string(detectedAt))
        payload.append("source", .string(source))
        payload.append("instance", instance.json)
        payload.append("data", serialized: data)
        payload.append("previous", detail.previousJSON)
        payload.append("synthetic", .bool(synthetic))
        return EncodedEvent(payload: payload.text, data: data)
    }

    /// An event read back from its v1 payload (the state directory's records hold it so).
    /// - Parameters:
    ///   - payload: The payload object.
    ///   - detectedAtMilliseconds: The detection time (the payload's `detected_at` has whole milliseconds only as text).
    /// - Returns: `nil` when the type is unknown or a field the type needs is missing.
    package init?(payload: JSONValue, detectedAtMilliseconds: Int64) {
        guard let id = payload["id"]?.stringValue, let typeName = payload["type"]?.stringValue,
            let type = EventType(rawValue: typeName), let instance = payload["instance"],
            let detail = EventDetail(
                type: type, data: payload["data"] ?? .object([]), previous: payload["previous"] ?? .null)
        else { return nil }
        var synthetic = false
        if case .bool(let value)? = payload["synthetic"] { synthetic = value }
        self.init(
            id: id, detectedAtMilliseconds: detectedAtMilliseconds, source: payload["source"]?.stringValue,
            instance: InstanceInfo(json: instance), detail: detail, synthetic: synthetic
        )
    }
}

extension InstanceInfo {
    /// The `instance` object of the payload.
    package var json: JSONValue {
        [
            "instance_id": .string(instanceID),
            "instance_type": .string(instanceType),
            "region": .string(region),
            "availability_zone": .string(availabilityZone),
            "account_id": .string(accountID),
        ]
    }

    init(json: JSONValue) {
        self.init(
            instanceID: json["instance_id"]?.stringValue ?? "",
            instanceType: json["instance_type"]?.stringValue ?? "",
            region: json["region"]?.stringValue ?? "",
            availabilityZone: json["availability_zone"]?.stringValue ?? "",
            accountID: json["account_id"]?.stringValue ?? ""
        )
    }
}

extension EventDetail {
    /// The payload's `data` object.
    package var dataJSON: JSONValue {
        switch self {
        case .spotInterruption(let notice): notice.json
        case .rebalanceRecommendation(let notice): notice.json
        case .maintenanceScheduled(let notice), .maintenanceChanged(let notice, _), .maintenanceCleared(let notice):
            notice.json
        case .asgLifecycleState(let change):
            if let target = change.target {
                [
                    "state": .string(change.state),
                    "group": .string(orNull: target.group),
                    "lifecycle_hook": .string(orNull: target.hook),
                ]
            } else {
                ["state": .string(change.state)]
            }
        case .tagsChanged(let changes): changes.json
        }
    }

    /// The payload's `previous`: the old fields of a changed maintenance event, the old Auto Scaling state, else
    /// `null`.
    package var previousJSON: JSONValue {
        switch self {
        case .maintenanceChanged(_, let previous): previous.json
        case .asgLifecycleState(let change): ["state": .string(orNull: change.previousState)]
        default: .null
        }
    }

    /// The detail of a `type` event read back from its payload's `data` and `previous`.
    /// - Returns: `nil` when a maintenance event has no `event_id` or an Auto Scaling event no `state`; other missing
    ///   fields read as empty (records written by earlier releases and tests may omit them).
    package init?(type: EventType, data: JSONValue, previous: JSONValue) {
        switch type {
        case .spotInterruption:
            let time = EventTime(rfc3339: data["time"]?.stringValue ?? "")
            self = .spotInterruption(SpotInterruption(action: data["action"]?.stringValue ?? "", time: time))
        case .rebalanceRecommendation:
            self = .rebalanceRecommendation(
                RebalanceNotice(noticeTime: EventTime(rfc3339: data["notice_time"]?.stringValue ?? "")))
        case .maintenanceScheduled, .maintenanceCleared:
            guard let notice = MaintenanceNotice(json: data) else { return nil }
            self = type == .maintenanceScheduled ? .maintenanceScheduled(notice) : .maintenanceCleared(notice)
        case .maintenanceChanged:
            guard let notice = MaintenanceNotice(json: data), let before = MaintenanceNotice(json: previous) else {
                return nil
            }
            self = .maintenanceChanged(notice, previous: before)
        case .asgLifecycleState:
            guard let state = data["state"]?.stringValue else { return nil }
            let looked = data["group"] != nil || data["lifecycle_hook"] != nil
            let target =
                looked
                ? LifecycleTarget(group: data["group"]?.stringValue, hook: data["lifecycle_hook"]?.stringValue) : nil
            self = .asgLifecycleState(
                LifecycleStateChange(state: state, previousState: previous["state"]?.stringValue, target: target))
        case .tagsChanged:
            self = .tagsChanged(TagChanges(json: data))
        }
    }
}

extension SpotInterruption {
    /// `{"action", "time"}`.
    package var json: JSONValue { ["action": .string(action), "time": .string(time.rfc3339)] }
}

extension RebalanceNotice {
    /// `{"notice_time"}`.
    package var json: JSONValue { ["notice_time": .string(noticeTime.rfc3339)] }
}

extension MaintenanceNotice {
    /// `event_id`, `code`, `description`, `state`, `not_before`, `not_after`, `not_before_deadline` (null when absent).
    package var json: JSONValue {
        [
            "event_id": .string(eventID),
            "code": .string(code),
            "description": .string(description),
            "state": .string(state),
            "not_before": .string(notBefore.rfc3339),
            "not_after": .string(notAfter.rfc3339),
            "not_before_deadline": .string(orNull: notBeforeDeadline?.rfc3339),
        ]
    }

    init?(json: JSONValue) {
        guard let eventID = json["event_id"]?.stringValue else { return nil }
        let notBefore = json["not_before"]?.stringValue ?? ""
        let notAfter = json["not_after"]?.stringValue ?? ""
        self.init(
            eventID: eventID, code: json["code"]?.stringValue ?? "",
            description: json["description"]?.stringValue ?? "",
            state: json["state"]?.stringValue ?? "", notBefore: EventTime(rfc3339: notBefore),
            notAfter: EventTime(rfc3339: notAfter),
            notBeforeDeadline: json["not_before_deadline"]?.stringValue.map(EventTime.init(rfc3339:))
        )
    }
}

extension TagChanges {
    /// `added` {k: v}, `removed` {k: v}, `changed` {k: {"from", "to"}}, `tags` (all now), in list order.
    package var json: JSONValue {
        [
            "added": Tag.json(added),
            "removed": Tag.json(removed),
            "changed": TagChange.json(changed),
            "tags": Tag.json(tags),
        ]
    }

    init(json: JSONValue) {
        func tags(_ key: String) -> [Tag] {
            guard case .object(let members)? = json[key] else { return [] }
            return members.compactMap { member in member.1.stringValue.map { Tag(member.0, $0) } }
        }
        var changed: [TagChange] = []
        if case .object(let members)? = json["changed"] {
            for (key, value) in members {
                guard let from = value["from"]?.stringValue, let to = value["to"]?.stringValue else { continue }
                changed.append(TagChange(key, from: from, to: to))
            }
        }
        self.init(added: tags("added"), removed: tags("removed"), changed: changed, tags: tags("tags"))
    }
}

extension Tag {
    /// Tags as a JSON object, in list order.
    package static func json(_ tags: [Tag]) -> JSONValue {
        .object(tags.map { ($0.key, .string($0.value)) })
    }
}

extension TagChange {
    /// Changes as a JSON object `{key: {"from", "to"}}`, in list order.
    package static func json(_ changes: [TagChange]) -> JSONValue {
        .object(changes.map { ($0.key, ["from": .string($0.from), "to": .string($0.to)]) })
    }
}

/// An event's JSON as the edges take it, made once per event by the one encoder (``Event/encoded``).
package struct EncodedEvent: Sendable, Equatable {
    /// The `imdswatch.event/v1` payload: the hooks' stdin and the `json` webhook body; the state directory's records
    /// (`events.journal`, `hooks-pending/`), the CloudEvents envelope and templates' `payload_json` embed it as it is.
    package let payload: String
    /// The payload's `data` member, as it stands in ``payload``: the detection's log line, templates' `data_json`.
    package let data: String
}

/// Where an event value keeps its ``EncodedEvent`` once made; a new one for every change of the event's fields.
final class EventEncoding: Sendable {
    private let made = Mutex<EncodedEvent?>(nil)

    init() {}

    /// The encoding, made by `encode` the first time.
    func value(_ encode: () -> EncodedEvent) -> EncodedEvent {
        made.withLock { made in
            if let made { return made }
            let value = encode()
            made = value
            return value
        }
    }
}
