import Foundation

/// RFC 3339 UTC timestamps with milliseconds for stderr lines: `2026-11-24T11:58:01.532Z`.
enum LogTimestamp {
    /// The text for `date`.
    static func text(for date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
