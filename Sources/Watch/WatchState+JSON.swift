import Events
import IMDS

/// The state file's format (version 1), documented in docs/events.md.
extension WatchState {
    /// The format version written in `version`.
    package static let formatVersion = 1

    /// The state as the state file's JSON document.
    package var json: JSONValue {
        [
            "version": .number(Double(Self.formatVersion)),
            "spot": [
                "current": spot.current?.json ?? .null,
                "fired": .array(spot.fired.map(JSONValue.string)),
            ],
            "rebalance": [
                "current": rebalance.current?.json ?? .null,
                "fired": .array(rebalance.fired.map(JSONValue.string)),
            ],
            "maintenance": [
                "events": .array(maintenance.events.map(\.json)),
                "fired": .array(maintenance.fired.map(JSONValue.string)),
            ],
            "asg": ["state": .string(orNull: asg.state), "generation": .number(Double(asg.generation))],
            "tags": [
                "tags": tags.tags.map { Tag.json(Tag.sorted($0)) } ?? .null,
                "generation": .number(Double(tags.generation)),
            ],
        ]
    }

    /// Reads a state file's JSON document.
    /// - Parameter json: The parsed document.
    /// - Throws: ``StateFormatError`` naming the first member that is missing or of the wrong type, or an
    ///   unsupported version.
    package init(json: JSONValue) throws(StateFormatError) {
        let root = try Fields(json, "state")
        guard try root.int("version") == Self.formatVersion else {
            throw StateFormatError("unsupported state file version")
        }
        self.init()
        let spotFields = try root.object("spot")
        if let current = try spotFields.optionalObject("current") {
            spot.current = SpotInterruption(action: try current.string("action"), time: try current.date("time"))
        }
        spot.fired = try spotFields.strings("fired").suffix(NoticeState<SpotInterruption>.recentLimit).map { $0 }
        let rebalanceFields = try root.object("rebalance")
        if let current = try rebalanceFields.optionalObject("current") {
            rebalance.current = RebalanceNotice(noticeTime: try current.date("notice_time"))
        }
        rebalance.fired = try rebalanceFields.strings("fired").suffix(NoticeState<RebalanceNotice>.recentLimit)
            .map { $0 }
        let maintenanceFields = try root.object("maintenance")
        maintenance.events = try maintenanceFields.objects("events").map { (event: Fields) throws(StateFormatError) in
            MaintenanceNotice(
                eventID: try event.string("event_id"), code: try event.string("code"),
                description: try event.string("description"), state: try event.string("state"),
                notBefore: try event.date("not_before"), notAfter: try event.date("not_after"),
                notBeforeDeadline: try event.optionalString("not_before_deadline").map(EventTime.init(rfc3339:))
            )
        }
        maintenance.fired = try maintenanceFields.strings("fired").suffix(MaintenanceState.recentLimit).map { $0 }
        let asgFields = try root.object("asg")
        asg = LifecycleStateRecord(
            state: try asgFields.optionalString("state"), generation: try asgFields.int("generation"))
        let tagFields = try root.object("tags")
        var tagMap: [String: String]?
        if let object = try tagFields.optionalObject("tags") {
            var map: [String: String] = [:]
            for (key, value) in object.members {
                guard case .string(let text) = value else { throw StateFormatError("tags.tags.\(key) is not a string") }
                map[key] = text
            }
            tagMap = map
        }
        tags = TagsRecord(tags: tagMap, generation: try tagFields.int("generation"))
    }
}

/// Why a state file's document is not a valid state.
package struct StateFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    package var reason: String

    init(_ reason: String) {
        self.reason = reason
    }

    package var description: String { reason }
}

/// Typed access to an object's members, naming the member path in errors.
private struct Fields {
    let members: [(String, JSONValue)]
    let name: String

    init(_ value: JSONValue, _ name: String) throws(StateFormatError) {
        guard case .object(let members) = value else { throw StateFormatError("\(name) is not an object") }
        self.members = members
        self.name = name
    }

    func value(_ key: String) throws(StateFormatError) -> JSONValue {
        guard let member = members.first(where: { $0.0 == key }) else {
            throw StateFormatError("\(name).\(key) is missing")
        }
        return member.1
    }

    func object(_ key: String) throws(StateFormatError) -> Fields {
        try Fields(try value(key), "\(name).\(key)")
    }

    func optionalObject(_ key: String) throws(StateFormatError) -> Fields? {
        let member = try value(key)
        if member == .null { return nil }
        return try Fields(member, "\(name).\(key)")
    }

    func string(_ key: String) throws(StateFormatError) -> String {
        guard case .string(let text) = try value(key) else { throw StateFormatError("\(name).\(key) is not a string") }
        return text
    }

    func optionalString(_ key: String) throws(StateFormatError) -> String? {
        let member = try value(key)
        if member == .null { return nil }
        guard case .string(let text) = member else { throw StateFormatError("\(name).\(key) is not a string") }
        return text
    }

    func date(_ key: String) throws(StateFormatError) -> EventTime {
        let text = try string(key)
        guard let normalized = try? IMDSDate.normalize(text) else {
            throw StateFormatError("\(name).\(key) is not a date")
        }
        return EventTime(rfc3339: normalized)
    }

    func int(_ key: String) throws(StateFormatError) -> Int {
        guard case .number(let number) = try value(key), number.isFinite, number == number.rounded(),
            number >= 0, number < 1e15
        else { throw StateFormatError("\(name).\(key) is not a whole number") }
        return Int(number)
    }

    func strings(_ key: String) throws(StateFormatError) -> [String] {
        guard case .array(let items) = try value(key) else { throw StateFormatError("\(name).\(key) is not an array") }
        var result: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw StateFormatError("\(name).\(key) holds a non-string") }
            result.append(text)
        }
        return result
    }

    func objects(_ key: String) throws(StateFormatError) -> [Fields] {
        guard case .array(let items) = try value(key) else { throw StateFormatError("\(name).\(key) is not an array") }
        var result: [Fields] = []
        for (index, item) in items.enumerated() { result.append(try Fields(item, "\(name).\(key)[\(index)]")) }
        return result
    }
}
