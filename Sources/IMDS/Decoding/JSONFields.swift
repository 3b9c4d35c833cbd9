import Events

/// Field access on IMDS JSON documents, shared by the decoders.
enum JSONFields {
    /// Bodies larger than this are not parsed (IMDS documents are a few hundred bytes).
    static let maxBodyBytes = 256 * 1024

    /// Parses a body that must be a JSON document.
    static func parse(_ body: String, what: String) throws(IMDSDecodingError) -> JSONValue {
        guard body.utf8.count <= maxBodyBytes else {
            throw IMDSDecodingError("\(what) is larger than \(maxBodyBytes) bytes")
        }
        do throws(JSONDocument.SyntaxError) {
            return try JSONDocument.parse(body)
        } catch {
            throw IMDSDecodingError("\(what) is not JSON (\(error.description)): \(IMDSDate.preview(body))")
        }
    }

    /// The members of an object.
    static func object(_ value: JSONValue, what: String) throws(IMDSDecodingError) -> [(String, JSONValue)] {
        guard case .object(let members) = value else { throw IMDSDecodingError("\(what) is not a JSON object") }
        return members
    }

    /// The member named `key`, matched exactly first, then ignoring case; `nil` when missing.
    static func member(_ members: [(String, JSONValue)], _ key: String) -> JSONValue? {
        if let exact = members.first(where: { $0.0 == key }) { return exact.1 }
        let lowered = key.lowercased()
        return members.first { $0.0.lowercased() == lowered }?.1
    }

    /// A required string member.
    static func string(_ members: [(String, JSONValue)], _ key: String, what: String) throws(IMDSDecodingError)
        -> String
    {
        guard let value = member(members, key) else { throw IMDSDecodingError("\(what) has no \(key)") }
        guard case .string(let text) = value else { throw IMDSDecodingError("\(what): \(key) is not a string") }
        return text
    }

    /// An optional string member: `nil` when missing, `null` or empty.
    static func optionalString(_ members: [(String, JSONValue)], _ key: String, what: String) throws(IMDSDecodingError)
        -> String?
    {
        switch member(members, key) {
        case nil, .null?: return nil
        case .string(let text)?: return text.isEmpty ? nil : text
        case .number(let number)?: return JSONValue.number(number).serialized()
        default: throw IMDSDecodingError("\(what): \(key) is not a string")
        }
    }

    /// A required date member, normalized to RFC 3339 UTC with whole seconds.
    static func date(_ members: [(String, JSONValue)], _ key: String, what: String) throws(IMDSDecodingError)
        -> EventTime
    {
        let text = try string(members, key, what: what)
        do throws(IMDSDecodingError) {
            return EventTime(rfc3339: try IMDSDate.normalize(text))
        } catch {
            throw IMDSDecodingError("\(what): \(key) is \(error.reason)")
        }
    }

    /// An optional date member: `nil` when missing, `null` or empty.
    static func optionalDate(_ members: [(String, JSONValue)], _ key: String, what: String) throws(IMDSDecodingError)
        -> EventTime?
    {
        guard let text = try optionalString(members, key, what: what) else { return nil }
        do throws(IMDSDecodingError) {
            return EventTime(rfc3339: try IMDSDate.normalize(text))
        } catch {
            throw IMDSDecodingError("\(what): \(key) is \(error.reason)")
        }
    }
}
