/// A spot interruption notice, from ``MetadataSource/spot``'s path.
package struct SpotInstanceAction: Sendable, Equatable, Hashable {
    /// What will happen: `terminate`, `stop` or `hibernate` (other words are kept as sent).
    package var action: String
    /// When it will happen, RFC 3339 UTC with whole seconds.
    package var time: String

    /// Creates a notice.
    /// - Parameters:
    ///   - action: `terminate`, `stop` or `hibernate`.
    ///   - time: RFC 3339 UTC with whole seconds.
    package init(action: String, time: String) {
        self.action = action
        self.time = time
    }

    /// Decodes `{"action": "terminate", "time": "2017-09-18T08:22:00Z"}` (compact or AEMM's tab-indented form).
    /// - Parameter body: The response body of a present (200) notice.
    /// - Throws: ``IMDSDecodingError`` when the body is not such an object or the time is not a date.
    package static func decode(_ body: String) throws(IMDSDecodingError) -> SpotInstanceAction {
        let what = "spot instance-action"
        let members = try JSONFields.object(try JSONFields.parse(body, what: what), what: what)
        let action = try JSONFields.string(members, "action", what: what).trimmingWhitespace().lowercased()
        guard !action.isEmpty, action.utf8.count <= 64 else {
            throw IMDSDecodingError("\(what): action is empty or too long")
        }
        return SpotInstanceAction(action: action, time: try JSONFields.date(members, "time", what: what))
    }
}

/// A rebalance recommendation, from ``MetadataSource/rebalance``'s path.
package struct RebalanceRecommendation: Sendable, Equatable, Hashable {
    /// When the recommendation was made, RFC 3339 UTC with whole seconds.
    package var noticeTime: String

    /// Creates a recommendation.
    /// - Parameter noticeTime: RFC 3339 UTC with whole seconds.
    package init(noticeTime: String) {
        self.noticeTime = noticeTime
    }

    /// Decodes `{"noticeTime": "2020-10-27T08:22:00Z"}` (compact or tab-indented).
    /// - Parameter body: The response body of a present (200) recommendation.
    /// - Throws: ``IMDSDecodingError`` when the body is not such an object or the time is not a date.
    package static func decode(_ body: String) throws(IMDSDecodingError) -> RebalanceRecommendation {
        let what = "rebalance recommendation"
        let members = try JSONFields.object(try JSONFields.parse(body, what: what), what: what)
        return RebalanceRecommendation(noticeTime: try JSONFields.date(members, "noticeTime", what: what))
    }
}
