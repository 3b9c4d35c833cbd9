import Events

/// The Auto Scaling target lifecycle state, from ``MetadataSource/asg``'s path.
package enum LifecycleState {
    /// Decodes one bare word such as `InService` or `Warmed:Running`, surrounding whitespace trimmed.
    /// - Parameter body: The response body of a present (200) state.
    /// - Returns: The state as sent (case kept).
    /// - Throws: ``IMDSDecodingError`` when the body is empty, longer than 64 bytes, or not one word of
    ///   letters, digits, `:`, `-`, `_` and `.` (an HTML page, for example).
    package static func decode(_ body: String) throws(IMDSDecodingError) -> String {
        let word = body.trimmingWhitespace()
        guard !word.isEmpty else { throw IMDSDecodingError("lifecycle state is empty") }
        guard word.utf8.count <= 64, word.utf8.allSatisfy(isStateByte) else {
            throw IMDSDecodingError("lifecycle state is not one word: \(IMDSDate.preview(word))")
        }
        return word
    }

    private static func isStateByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }
}

/// Instance tags, from ``MetadataSource/tags``'s path (the keys) and ``valuePath(_:)`` (each value).
package enum InstanceTags {
    /// At most this many keys are accepted (EC2 allows 50 tags).
    package static let maxKeys = 128

    /// The path of one tag's value, relative to `/latest/`.
    /// - Parameter key: A key returned by ``decodeKeys(_:)`` (those never need escaping).
    package static func valuePath(_ key: String) -> String {
        MetadataSource.tags.path + "/" + key
    }

    /// Decodes the key list: one key per line (LF or CRLF), blank lines ignored, duplicates dropped.
    /// - Parameter body: The response body of the key directory (an empty body is no tags).
    /// - Returns: The keys, sorted by their UTF-8 bytes.
    /// - Throws: ``IMDSDecodingError`` when a line is not a key IMDS can serve (`[A-Za-z0-9+-=.,_:@]`, at most
    ///   128 bytes) or there are more than ``maxKeys`` keys.
    package static func decodeKeys(_ body: String) throws(IMDSDecodingError) -> [String] {
        var keys: Set<String> = []
        for line in body.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            var bytes = line[...]
            while let last = bytes.last, last == UInt8(ascii: "\r") || last == 0x20 || last == 0x09 {
                bytes = bytes.dropLast()
            }
            while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
            if bytes.isEmpty { continue }
            guard bytes.count <= 128, bytes.allSatisfy(isKeyByte) else {
                throw IMDSDecodingError(
                    "tag key list has a line that is not a tag key: \(IMDSDate.preview(String(decoding: bytes, as: UTF8.self)))"
                )
            }
            keys.insert(String(decoding: bytes, as: UTF8.self))
            guard keys.count <= maxKeys else { throw IMDSDecodingError("tag key list has more than \(maxKeys) keys") }
        }
        return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Decodes one tag's value: the raw body, unchanged (values are arbitrary UTF-8).
    /// - Parameter body: The response body of `tags/instance/KEY`.
    /// - Throws: ``IMDSDecodingError`` when the value is longer than 4096 bytes (EC2 allows 256 characters).
    package static func decodeValue(_ body: String) throws(IMDSDecodingError) -> String {
        guard body.utf8.count <= 4096 else { throw IMDSDecodingError("tag value is longer than 4096 bytes") }
        return body
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "="), UInt8(ascii: "."), UInt8(ascii: ","),
            UInt8(ascii: "_"),
            UInt8(ascii: ":"), UInt8(ascii: "@"):
            true
        default:
            false
        }
    }
}

/// The instance identity document: the instance fields of every event's payload (``InstanceInfo``), read from IMDS.
package typealias InstanceIdentityDocument = InstanceInfo

extension InstanceInfo {
    /// Creates the fields in the order the identity document lists them.
    package init(accountID: String, availabilityZone: String, instanceID: String, instanceType: String, region: String)
    {
        self.init(
            instanceID: instanceID, instanceType: instanceType, region: region,
            availabilityZone: availabilityZone, accountID: accountID)
    }

    /// Decodes the document (compact or pretty-printed JSON); missing or `null` fields become empty strings and
    /// other fields are ignored.
    /// - Parameter body: The response body.
    /// - Throws: ``IMDSDecodingError`` when the body is not a JSON object or one of the five fields is not a string.
    package static func decode(_ body: String) throws(IMDSDecodingError) -> InstanceIdentityDocument {
        let what = "instance identity document"
        let members = try JSONFields.object(try JSONFields.parse(body, what: what), what: what)
        return InstanceIdentityDocument(
            accountID: try JSONFields.optionalString(members, "accountId", what: what) ?? "",
            availabilityZone: try JSONFields.optionalString(members, "availabilityZone", what: what) ?? "",
            instanceID: try JSONFields.optionalString(members, "instanceId", what: what) ?? "",
            instanceType: try JSONFields.optionalString(members, "instanceType", what: what) ?? "",
            region: try JSONFields.optionalString(members, "region", what: what) ?? ""
        )
    }
}
