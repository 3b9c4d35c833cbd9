import Events

extension MaintenanceNotice {
    /// At most this many events are accepted in one list.
    package static let maxEvents = 256

    /// Decodes the scheduled list at ``MetadataSource/maintenance``'s path: a JSON array of objects with `EventId`,
    /// `Code`, `Description`, `State`, `NotBefore`, `NotAfter` and optional `NotBeforeDeadline`; dates in either IMDS
    /// form, normalized to RFC 3339 UTC with whole seconds.
    /// - Parameter body: The response body (`[]` for none; a 404 means none too, and is handled by the caller).
    /// - Returns: The events in the order IMDS listed them, without duplicate ids (the first one wins).
    /// - Throws: ``IMDSDecodingError`` when the body is not such an array (an empty body is an error, not "none").
    package static func decodeList(_ body: String) throws(IMDSDecodingError) -> [MaintenanceNotice] {
        let what = "maintenance events"
        guard case .array(let items) = try JSONFields.parse(body, what: what) else {
            throw IMDSDecodingError("\(what) is not a JSON array")
        }
        guard items.count <= maxEvents else { throw IMDSDecodingError("\(what) lists more than \(maxEvents) events") }
        var events: [MaintenanceNotice] = []
        var seen: Set<String> = []
        for item in items {
            let event = try decode(item)
            if seen.insert(event.eventID).inserted { events.append(event) }
        }
        return events
    }

    static func decode(_ item: JSONValue) throws(IMDSDecodingError) -> MaintenanceNotice {
        let what = "maintenance event"
        let members = try JSONFields.object(item, what: what)
        let eventID = try JSONFields.string(members, "EventId", what: what).trimmingWhitespace()
        guard !eventID.isEmpty, eventID.utf8.count <= 256 else {
            throw IMDSDecodingError("\(what): EventId is empty or too long")
        }
        return MaintenanceNotice(
            eventID: eventID,
            code: try JSONFields.optionalString(members, "Code", what: what) ?? "",
            description: try JSONFields.optionalString(members, "Description", what: what) ?? "",
            state: try JSONFields.optionalString(members, "State", what: what) ?? "",
            notBefore: try JSONFields.date(members, "NotBefore", what: what),
            notAfter: try JSONFields.date(members, "NotAfter", what: what),
            notBeforeDeadline: try JSONFields.optionalDate(members, "NotBeforeDeadline", what: what)
        )
    }
}
