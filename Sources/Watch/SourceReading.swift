import Events
import IMDS

extension MetadataSource {
    /// Reads this source once and decodes it.
    /// - Parameter reader: Where to read.
    /// - Returns: The value; `.absent` for a 404 (maintenance: a 404 is an empty list, as AEMM sends it); `.failed`
    ///   for every error, an unparsable body included (code `malformedResponse`). Never throws.
    package func read(from reader: some MetadataReader) async -> Observation {
        do throws(IMDSError) {
            switch self {
            case .spot:
                guard let body = try await reader.text(path) else { return .absent }
                return .value(
                    .spot(
                        try decode(body, reader) { body throws(IMDSDecodingError) in try SpotInterruption.decode(body)
                        }))
            case .rebalance:
                guard let body = try await reader.text(path) else { return .absent }
                return .value(
                    .rebalance(
                        try decode(body, reader) { body throws(IMDSDecodingError) in
                            try RebalanceNotice.decode(body)
                        }))
            case .maintenance:
                guard let body = try await reader.text(path) else { return .value(.maintenance([])) }
                return .value(
                    .maintenance(
                        try decode(body, reader) { body throws(IMDSDecodingError) in
                            try MaintenanceNotice.decodeList(body)
                        }))
            case .asg:
                guard let body = try await reader.text(path) else { return .absent }
                return .value(
                    .asg(try decode(body, reader) { body throws(IMDSDecodingError) in try LifecycleState.decode(body) })
                )
            case .tags:
                return try await readTags(from: reader)
            }
        } catch {
            return .failed(error)
        }
    }

    private func decode<Value>(
        _ body: String, _ reader: some MetadataReader, _ decoder: (String) throws(IMDSDecodingError) -> Value
    ) throws(IMDSError) -> Value {
        do throws(IMDSDecodingError) {
            return try decoder(body)
        } catch {
            throw error.imdsError(path: path, endpoint: reader.endpointDescription)
        }
    }

    /// The keys, then each value. A value that is absent although its key is listed (the tags changed during the
    /// read) is an error for this round, not a removal: the next round reads a consistent set.
    private func readTags(from reader: some MetadataReader) async throws(IMDSError) -> Observation {
        guard let body = try await reader.text(path) else { return .absent }
        let keys = try decodeKeys(body, reader)
        let tags = try await readTagValues(keys, from: reader)
        return .value(.tags(tags))
    }

    /// The tag keys of a `meta-data/tags/instance` body.
    func decodeKeys(_ body: String, _ reader: some MetadataReader) throws(IMDSError) -> [String] {
        try decode(body, reader) { body throws(IMDSDecodingError) in try InstanceTags.decodeKeys(body) }
    }

    /// Each key's value.
    func readTagValues(_ keys: [String], from reader: some MetadataReader) async throws(IMDSError) -> [String: String] {
        var tags: [String: String] = [:]
        for key in keys {
            let valuePath = InstanceTags.valuePath(key)
            guard let value = try await reader.text(valuePath) else {
                throw IMDSError(
                    code: .unexpectedStatus, path: valuePath, endpoint: reader.endpointDescription, status: 404,
                    message:
                        "tag \(key) is listed in \(path) but its value is absent (the tags changed during the read)"
                )
            }
            tags[key] = try decode(value, reader) { body throws(IMDSDecodingError) in try InstanceTags.decodeValue(body)
            }
        }
        return tags
    }
}

extension InstanceIdentityDocument {
    /// Reads and decodes the identity document.
    /// - Parameter reader: Where to read.
    /// - Returns: The document.
    /// - Throws: ``IMDSError``: the read's error, `malformedResponse` for an unparsable body, `unexpectedStatus`
    ///   for a 404.
    package static func read(from reader: some MetadataReader) async throws(IMDSError) -> InstanceIdentityDocument {
        let path = MetadataPath.identityDocument
        guard let body = try await reader.text(path) else {
            throw IMDSError(
                code: .unexpectedStatus, path: path, endpoint: reader.endpointDescription, status: 404,
                message: "IMDS has no \(path)")
        }
        do throws(IMDSDecodingError) {
            return try decode(body)
        } catch {
            throw error.imdsError(path: path, endpoint: reader.endpointDescription)
        }
    }
}
