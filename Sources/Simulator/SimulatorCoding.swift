import Events
import Foundation

/// JSON encoding and decoding of the simulator's control types, with the date rules they share.
enum SimulatorCoding {
    /// An encoder writing dates as RFC 3339 (whole seconds) and keys in a stable order.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(IMDSDate.rfc3339(date))
        }
        return encoder
    }

    /// A decoder reading dates as RFC 3339, as `21 Jan 2019 09:00:43 GMT`, or as a number of seconds from now.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                return .simulatorWholeSeconds(fromNow: seconds)
            }
            let text = try container.decode(String.self)
            if let date = IMDSDate.parse(text) { return date }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "invalid date \"\(text)\": use 2026-11-24T12:00:00Z, 21 Jan 2019 09:00:43 GMT, or seconds from now"
            )
        }
        return decoder
    }

    /// A one-line description of a decoding failure, naming the field.
    /// - Parameter error: Any error thrown while decoding.
    /// - Returns: Text without line breaks.
    static func describe(_ error: any Error) -> String {
        let text: String
        switch error {
        case DecodingError.dataCorrupted(let context),
             DecodingError.typeMismatch(_, let context),
             DecodingError.valueNotFound(_, let context):
            text = "\(path(context.codingPath)): \(context.debugDescription)"
        case DecodingError.keyNotFound(let key, let context):
            text = "\(path(context.codingPath + [key])): missing field"
        default:
            text = "\(error)"
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        if keys.isEmpty { return "body" }
        return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// The date formats IMDS uses, written and read without shared formatters.
enum IMDSDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `2017-09-18T08:22:00Z`.
    static func rfc3339(_ date: Date) -> String {
        let c = components(date)
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// `21 Jan 2019 09:00:43 GMT`, as in maintenance events.
    static func eventDate(_ date: Date) -> String {
        let c = components(date)
        return "\(c.day) \(months[c.month - 1]) \(c.year) \(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2)) GMT"
    }

    /// Parses either format (RFC 3339 may carry fractional seconds or a numeric offset).
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        let parts = text.split(separator: " ")
        guard parts.count == 5, parts[4] == "GMT",
              let day = Int(parts[0]), let monthIndex = months.firstIndex(of: String(parts[1])), let year = Int(parts[2])
        else { return nil }
        let time = parts[3].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        let seconds = Timestamp.epochSeconds(year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time[2])
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func components(_ date: Date) -> Timestamp.CivilTime {
        Timestamp.civilTime(seconds: Int64(date.timeIntervalSince1970.rounded(.down)))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
