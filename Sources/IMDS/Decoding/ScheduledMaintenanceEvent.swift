import Events

/// One scheduled maintenance event, from the list at ``MetadataSource/maintenance``'s path.
package struct ScheduledMaintenanceEvent: Sendable, Equatable, Hashable {
    /// At most this many events are accepted in one list.
    package static let maxEvents = 256

    /// `instance-event-…`, stable for one event.
    package var eventID: String
    /// `instance-reboot`, `system-reboot`, `system-maintenance`, `instance-retirement`, `instance-stop`.
    package var code: String
    /// Free text (prefixed `[Canceled]` or `[Completed]` in history).
    package var description: String
    /// `active`, `completed` or `canceled`.
    package var state: String
    /// Start of the window, RFC 3339 UTC with whole seconds.
    package var notBefore: String
    /// End of the window, RFC 3339 UTC with whole seconds.
    package var notAfter: String
    /// Latest start a reschedule may pick, RFC 3339 UTC with whole seconds, when IMDS gives one.
    package var notBeforeDeadline: String?

    /// Creates an event.
    package init(
        eventID: String, code: String, description: String, state: String,
        notBefore: String, notAfter: String, notBeforeDeadline: String? = nil
    ) {
        self.eventID = eventID
        self.code = code
        self.description = description
        self.state = state
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.notBeforeDeadline = notBeforeDeadline
    }

    /// Decodes the scheduled list: a JSON array of objects with `EventId`, `Code`, `Description`, `State`,
    /// `NotBefore`, `NotAfter` and optional `NotBeforeDeadline`; dates in either IMDS form.
    /// - Parameter body: The response body (`[]` for none; a 404 means none too, and is handled by the caller).
    /// - Returns: The events in the order IMDS listed them, without duplicate ids (the first one wins).
    /// - Throws: ``IMDSDecodingError`` when the body is not such an array (an empty body is an error, not "none").
    package static func decodeList(_ body: String) throws(IMDSDecodingError) -> [ScheduledMaintenanceEvent] {
        let what = "maintenance events"
        guard case .array(let items) = try JSONFields.parse(body, what: what) else {
            throw IMDSDecodingError("\(what) is not a JSON array")
        }
        guard items.count <= maxEvents else { throw IMDSDecodingError("\(what) lists more than \(maxEvents) events") }
        var events: [ScheduledMaintenanceEvent] = []
        var seen: Set<String> = []
        for item in items {
            let event = try decode(item)
            if seen.insert(event.eventID).inserted { events.append(event) }
        }
        return events
    }

    static func decode(_ item: JSONValue) throws(IMDSDecodingError) -> ScheduledMaintenanceEvent {
        let what = "maintenance event"
        let members = try JSONFields.object(item, what: what)
        let eventID = try JSONFields.string(members, "EventId", what: what).trimmingWhitespace()
        guard !eventID.isEmpty, eventID.utf8.count <= 256 else {
            throw IMDSDecodingError("\(what): EventId is empty or too long")
        }
        return ScheduledMaintenanceEvent(
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
