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
            try container.encode(Timestamp.rfc3339(seconds: date.epochSeconds))
        }
        return encoder
    }

    /// A decoder reading dates in any form ``Events/Timestamp/epochSeconds(parsing:)`` reads (RFC 3339,
    /// `21 Jan 2019 09:00:43 GMT`), or as a number of seconds from now.
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                return .simulatorWholeSeconds(fromNow: seconds)
            }
            let text = try container.decode(String.self)
            if let seconds = Timestamp.epochSeconds(parsing: text) {
                return Date(timeIntervalSince1970: TimeInterval(seconds))
            }
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "invalid date \"\(text)\": use 2026-11-24T12:00:00Z, 21 Jan 2019 09:00:43 GMT, or seconds from now"
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

extension Date {
    /// Whole seconds since the Unix epoch (rounded down): what ``Events/Timestamp`` formats.
    var epochSeconds: Int64 { Int64(timeIntervalSince1970.rounded(.down)) }
}
