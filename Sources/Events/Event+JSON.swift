/// The one JSON encoder (and decoder) of events: the `imdswatch.event/v1` payload that hooks read on stdin and the
/// `json` webhook sends, whose `data` and `previous` every other edge (webhook formats, the detection log line,
/// the state directory's records) takes from here. Nothing else reads or writes event fields as JSON.
extension Event {
    /// The v1 payload as a JSON value.
    package var payload: JSONValue {
        [
            "schema": .string(Event.schema),
            "id": .string(id),
            "type": .string(type.rawValue),
            "detected_at": .string(detectedAt),
            "source": .string(source),
            "instance": instance.json,
            "data": detail.dataJSON,
            "previous": detail.previousJSON,
            "synthetic": .bool(synthetic),
        ]
    }

    /// The v1 payload as UTF-8 JSON bytes: the hooks' stdin and the `json` webhook body.
    package func payloadBytes() -> [UInt8] {
        Array(payload.serialized().utf8)
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
