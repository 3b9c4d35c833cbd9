import Crypto
import Events

/// Stable event ids: the same occurrence gets the same id on every run.
///
/// The id is the first 128 bits, in lower-case hex, of the SHA-256 of
/// `imdswatch.event/v1`, the instance id, the event type and the occurrence's identifying fields, separated by NUL
/// bytes. The identifying fields are listed in docs/events.md (for example the action and time of a spot notice).
package enum EventID {
    /// The id of an occurrence.
    /// - Parameters:
    ///   - type: The event type.
    ///   - instanceID: The instance id (empty when unknown).
    ///   - fields: The occurrence's identifying fields, in a fixed order.
    /// - Returns: 32 lower-case hex digits.
    package static func make(type: EventType, instanceID: String, fields: [String]) -> String {
        var input = Array(Event.schema.utf8)
        for part in [instanceID, type.rawValue] + fields {
            input.append(0)
            input.append(contentsOf: part.utf8)
        }
        let digest = SHA256.hash(data: input)
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(32)
        for byte in digest.prefix(16) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
