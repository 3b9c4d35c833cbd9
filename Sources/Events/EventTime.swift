/// An instant in an event's fields (a spot action's time, a maintenance window's bounds), as the payload writes
/// it: RFC 3339 UTC with whole seconds (`2026-11-24T12:00:00Z`).
///
/// The text is kept as IMDS decoding normalized it, so a payload carries it byte for byte and a record written by
/// an earlier release reads back unchanged; ``epochSeconds`` reads it with ``Timestamp``'s one parser.
package struct EventTime: Sendable, Hashable, CustomStringConvertible {
    /// The time as the payload writes it.
    package let rfc3339: String

    /// A time from its RFC 3339 text (normally UTC with whole seconds, as IMDS decoding writes it).
    /// - Parameter rfc3339: The text; kept as it is.
    package init(rfc3339: String) {
        self.rfc3339 = rfc3339
    }

    /// The time `seconds` after the Unix epoch.
    package init(seconds: Int64) {
        self.rfc3339 = Timestamp.rfc3339(seconds: seconds)
    }

    /// Seconds since the Unix epoch, or `nil` when the text is not a date.
    package var epochSeconds: Int64? {
        Timestamp.epochSeconds(parsing: rfc3339)
    }

    package var description: String { rfc3339 }
}
