/// A JSON value with object members kept in insertion order, so that payload bytes are stable and readable.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// The member named `key` of an object, or `nil`.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The string, when this is a string.
    package var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Serializes compactly (no spaces), escaping as RFC 8259 requires.
    package func serialized() -> String {
        var output = ""
        write(to: &output)
        return output
    }

    fileprivate func write(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value):
            if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
                output += String(Int64(value))
            } else if value.isFinite {
                output += "\(value)"
            } else {
                output += "null"
            }
        case .string(let value): JSONValue.writeString(value, to: &output)
        case .array(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.write(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += "," }
                JSONValue.writeString(member.0, to: &output)
                output += ":"
                member.1.write(to: &output)
            }
            output += "}"
        }
    }

    fileprivate static func writeString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let scalar where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByIntegerLiteral
{
    package init(integerLiteral value: Int) { self = .number(Double(value)) }
    package init(stringLiteral value: String) { self = .string(value) }
    package init(nilLiteral: ()) { self = .null }
    package init(booleanLiteral value: Bool) { self = .bool(value) }
    package init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
    package init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue {
    /// A string, or `null` when `value` is `nil`.
    package static func string(orNull value: String?) -> JSONValue {
        value.map(JSONValue.string) ?? .null
    }
}

/// A JSON object written member by member, into the very text ``JSONValue/serialized()`` makes of the same members,
/// where a member's value may also be JSON text made before and copied in as it is: an event's payload, encoded
/// once (``Event/encoded``), goes so into the state directory's records and the CloudEvents envelope.
package struct JSONObjectText: Sendable {
    private var members = ""

    /// An object with no members yet.
    package init() {}

    /// Adds a member whose value is serialized here.
    package mutating func append(_ key: String, _ value: JSONValue) {
        startMember(key)
        value.write(to: &members)
    }

    /// Adds a member whose value is JSON text already serialized (by ``JSONValue/serialized()`` or this type):
    /// copied as it is, never parsed or encoded again.
    package mutating func append(_ key: String, serialized value: String) {
        startMember(key)
        members += value
    }

    /// Adds a member whose value is an array of JSON texts already serialized, each copied as it is.
    package mutating func append(_ key: String, serializedElements elements: [String]) {
        startMember(key)
        members += "[" + elements.joined(separator: ",") + "]"
    }

    /// The object's JSON text.
    package var text: String { "{" + members + "}" }

    private mutating func startMember(_ key: String) {
        if !members.isEmpty { members += "," }
        JSONValue.writeString(key, to: &members)
        members += ":"
    }
}
