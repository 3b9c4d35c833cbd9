import Events

extension SpotInterruption {
    /// Decodes a spot interruption notice from ``MetadataSource/spot``'s path:
    /// `{"action": "terminate", "time": "2017-09-18T08:22:00Z"}` (compact or AEMM's tab-indented form).
    /// - Parameter body: The response body of a present (200) notice.
    /// - Returns: The notice: the action lower case (`terminate`, `stop`, `hibernate`; other words kept as sent), the
    ///   time RFC 3339 UTC with whole seconds.
    /// - Throws: ``IMDSDecodingError`` when the body is not such an object or the time is not a date.
    package static func decode(_ body: String) throws(IMDSDecodingError) -> SpotInterruption {
        let what = "spot instance-action"
        let members = try JSONFields.object(try JSONFields.parse(body, what: what), what: what)
        let action = try JSONFields.string(members, "action", what: what).trimmingWhitespace().lowercased()
        guard !action.isEmpty, action.utf8.count <= 64 else {
            throw IMDSDecodingError("\(what): action is empty or too long")
        }
        return SpotInterruption(action: action, time: try JSONFields.date(members, "time", what: what))
    }
}

extension RebalanceNotice {
    /// Decodes a rebalance recommendation from ``MetadataSource/rebalance``'s path:
    /// `{"noticeTime": "2020-10-27T08:22:00Z"}` (compact or tab-indented).
    /// - Parameter body: The response body of a present (200) recommendation.
    /// - Returns: The recommendation, its time RFC 3339 UTC with whole seconds.
    /// - Throws: ``IMDSDecodingError`` when the body is not such an object or the time is not a date.
    package static func decode(_ body: String) throws(IMDSDecodingError) -> RebalanceNotice {
        let what = "rebalance recommendation"
        let members = try JSONFields.object(try JSONFields.parse(body, what: what), what: what)
        return RebalanceNotice(noticeTime: try JSONFields.date(members, "noticeTime", what: what))
    }
}
