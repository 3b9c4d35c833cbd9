import Crypto
import Events

/// One record of the event journal: what the poller detected with the watch state after it, or a consumer's
/// acknowledgement that an event is in its own durable store.
package enum JournalRecord: Sendable, Equatable {
    /// Events detected by one poll (possibly none: a state-only change) and the watch state that says they fired.
    /// `state` is `nil` in a compacted journal (the state is then in the checkpoint).
    case detected(events: [Event], state: JSONValue?)
    /// `consumer` has taken event `eventID` into its own durable store; `output` is the event as it hands it on to
    /// the consumers downstream of it (the lifecycle stage adds `group` and `lifecycle_hook`).
    case acknowledged(consumer: String, eventID: String, output: Event?)

    /// The record's line: `LENGTH CHECKSUM JSON\n`, where LENGTH counts the JSON's bytes and CHECKSUM is the first
    /// 4 bytes of its SHA-256 in hex. A torn write loses the newline or the checksum; either is detected.
    /// Events are embedded as their one encoding made them (``Event/journalObject``), not encoded again.
    package func line() -> [UInt8] {
        var json = JSONObjectText()
        switch self {
        case .detected(let events, let state):
            json.append("events", serializedElements: events.map(\.journalObject.text))
            json.append("state", state ?? .null)
        case .acknowledged(let consumer, let eventID, let output):
            json.append("ack", .string(consumer))
            json.append("id", .string(eventID))
            if let output {
                json.append("out", serialized: output.journalObject.text)
            } else {
                json.append("out", .null)
            }
        }
        let body = Array(json.text.utf8)
        var line = Array("\(body.count) \(Self.checksum(body)) ".utf8)
        line.append(contentsOf: body)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// What reading a journal found.
    package struct Reading: Sendable, Equatable {
        /// The records that were whole and intact, in file order.
        package var records: [JournalRecord] = []
        /// Bytes at the end that do not form a whole record (a torn write): dropped.
        package var tornTailBytes = 0
        /// The offset of the first damaged record that is followed by more data (the file is corrupt), if any.
        package var corruptAt: Int?
        /// The byte length of the intact records (where appending continues).
        package var intactBytes = 0
    }

    /// Reads a journal's bytes: records up to the first one that is incomplete or fails its checksum.
    /// - Parameter bytes: The whole file.
    /// - Returns: The intact records; a damaged last line is a torn tail, damage before more lines is corruption.
    package static func read(_ bytes: [UInt8]) -> Reading {
        var reading = Reading()
        var offset = 0
        while offset < bytes.count {
            guard let newline = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) else {
                reading.tornTailBytes = bytes.count - offset
                break
            }
            guard let record = parse(bytes[offset..<newline]) else {
                if newline + 1 >= bytes.count {
                    reading.tornTailBytes = bytes.count - offset
                } else {
                    reading.corruptAt = offset
                }
                break
            }
            reading.records.append(record)
            offset = newline + 1
            reading.intactBytes = offset
        }
        return reading
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> JournalRecord? {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3, let length = Int(String(decoding: fields[0], as: UTF8.self)) else { return nil }
        let body = Array(fields[2])
        guard body.count == length, String(decoding: fields[1], as: UTF8.self) == checksum(body),
            let json = try? JSONDocument.parse(String(decoding: body, as: UTF8.self))
        else { return nil }
        if let consumer = json["ack"]?.stringValue, let id = json["id"]?.stringValue {
            let output = json["out"].flatMap { $0 == .null ? nil : Event(journalJSON: $0) }
            return .acknowledged(consumer: consumer, eventID: id, output: output)
        }
        guard case .array(let values)? = json["events"] else { return nil }
        var events: [Event] = []
        for value in values {
            guard let event = Event(journalJSON: value) else { return nil }
            events.append(event)
        }
        // Not `nil` in a ternary: JSONValue is ExpressibleByNilLiteral, so that `nil` would be `.null`.
        let state: JSONValue? = if let value = json["state"], value != .null { value } else { nil }
        return .detected(events: events, state: state)
    }

    private static func checksum(_ body: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in SHA256.hash(data: body).prefix(4) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

extension Event {
    /// The event as the state directory's records hold it, `{"event": PAYLOAD, "detected_at_ms": N}` (the payload's
    /// `detected_at` has whole milliseconds only as text), the payload embedded as ``Event/encoded`` made it; a
    /// record may add members (`hooks-pending/` adds `done`).
    package var journalObject: JSONObjectText {
        var object = JSONObjectText()
        object.append("event", serialized: encoded.payload)
        object.append("detected_at_ms", .number(Double(detectedAtMilliseconds)))
        return object
    }

    /// An event read back from ``journalObject``'s JSON (the journal, `hooks-pending/`); `nil` when a member is
    /// missing.
    package init?(journalJSON json: JSONValue) {
        guard let payload = json["event"], case .number(let detected)? = json["detected_at_ms"] else { return nil }
        self.init(payload: payload, detectedAtMilliseconds: Int64(detected))
    }
}
