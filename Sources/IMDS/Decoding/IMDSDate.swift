import Events
import HTTP

/// Dates as IMDS writes them, normalized to RFC 3339 UTC with whole seconds (`2019-01-21T09:00:43Z`), with the
/// decoders' typed error. The parsing is ``Events/Timestamp/epochSeconds(parsing:)`` (the one date parser, shared
/// with the simulator); see there for the accepted forms.
package enum IMDSDate {
    /// The normalized form of an IMDS date.
    /// - Parameter text: The date as IMDS sent it (surrounding whitespace is ignored).
    /// - Returns: RFC 3339 UTC with whole seconds.
    /// - Throws: ``IMDSDecodingError`` when the text is not a valid date in an accepted form.
    package static func normalize(_ text: String) throws(IMDSDecodingError) -> String {
        Timestamp.rfc3339(seconds: try epochSeconds(text))
    }

    /// Seconds since the Unix epoch of an IMDS date.
    /// - Parameter text: The date as IMDS sent it.
    /// - Throws: ``IMDSDecodingError`` when the text is not a valid date in an accepted form.
    package static func epochSeconds(_ text: String) throws(IMDSDecodingError) -> Int64 {
        guard let seconds = Timestamp.epochSeconds(parsing: text) else {
            throw IMDSDecodingError("not a date: \(preview(text))")
        }
        return seconds
    }

    /// A short, printable excerpt of untrusted text for error messages.
    static func preview(_ text: String) -> String {
        "\"" + ServerText.excerpt(text, limit: 40) + "\""
    }
}
