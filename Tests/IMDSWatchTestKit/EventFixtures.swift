import Events

extension Event {
    /// A test event of `type` whose fields are read from `data` and `previous` as the payload writes them; when
    /// those do not make a valid event of the type, the fields of the synthetic event of that type.
    package static func fixture(
        id: String, type: EventType, detectedAtMilliseconds: Int64, source: String? = nil, instance: InstanceInfo,
        data: JSONValue = .null, previous: JSONValue = .null, synthetic: Bool = false
    ) -> Event {
        let detail =
            EventDetail(type: type, data: data, previous: previous)
            ?? SyntheticEvents.event(type, nowMilliseconds: detectedAtMilliseconds).detail
        return Event(
            id: id, detectedAtMilliseconds: detectedAtMilliseconds, source: source, instance: instance, detail: detail,
            synthetic: synthetic
        )
    }
}
