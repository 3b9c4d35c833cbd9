import Events

/// A named value, as ec2-metadata names them (`region`, `account-id`, ...): a name for a path, or a value composed
/// from several reads.
package struct MetadataAttribute: Sendable {
    /// Where the value comes from.
    enum Source: Sendable {
        /// The body of a path.
        case path(String)
        /// The first name listed in a directory.
        case firstListed(String)
        /// A string member of the instance identity document.
        case identityDocument(String)
        /// Every instance tag, as a JSON object of key to value.
        case tags
    }

    /// The name, e.g. `availability-zone-id`.
    package let name: String
    /// A few words for `get --help` (at most 40 characters, so that a line fits 80 columns).
    package let summary: String
    let source: Source

    /// Every attribute, in the order `get --help` lists them.
    package static let all: [MetadataAttribute] = [
        .init("account-id", "the account, from the identity document", .identityDocument("accountId")),
        .init("ami-id", "the AMI the instance was launched from", .path(MetadataPath.underMetaData("ami-id"))),
        .init("availability-zone", "e.g. eu-west-1b", .path(MetadataPath.underMetaData("placement/availability-zone"))),
        .init(
            "availability-zone-id", "e.g. euw1-az3", .path(MetadataPath.underMetaData("placement/availability-zone-id"))
        ),
        .init("domain", "e.g. amazonaws.com", .path(MetadataPath.underMetaData("services/domain"))),
        .init("iam-role", "the instance profile's role", .firstListed(MetadataPath.iamSecurityCredentials)),
        .init("instance-id", "e.g. i-0123456789abcdef0", .path(MetadataPath.underMetaData("instance-id"))),
        .init(
            "instance-life-cycle", "on-demand, spot or scheduled",
            .path(MetadataPath.underMetaData("instance-life-cycle"))),
        .init("instance-type", "e.g. m5.large", .path(MetadataPath.underMetaData("instance-type"))),
        .init("mac", "the primary network interface's MAC", .path(MetadataPath.underMetaData("mac"))),
        .init("partition", "e.g. aws", .path(MetadataPath.underMetaData("services/partition"))),
        .init("private-hostname", "the private DNS name", .path(MetadataPath.underMetaData("local-hostname"))),
        .init("private-ipv4", "the primary private IPv4 address", .path(MetadataPath.underMetaData("local-ipv4"))),
        .init(
            "public-hostname", "public DNS name (none on a private one)",
            .path(MetadataPath.underMetaData("public-hostname"))),
        .init(
            "public-ipv4", "public IPv4 (none on a private instance)", .path(MetadataPath.underMetaData("public-ipv4"))),
        .init("region", "e.g. eu-west-1", .path(MetadataPath.underMetaData("placement/region"))),
        .init("reservation-id", "the launch reservation", .path(MetadataPath.underMetaData("reservation-id"))),
        .init(
            "security-groups", "security group names, one per line",
            .path(MetadataPath.underMetaData("security-groups"))),
        .init("tags", "instance tags as a JSON object", .tags),
        .init("spot-instance-action", "the spot interruption notice (JSON)", .path(MetadataSource.spot.path)),
        .init(
            "autoscaling-target-lifecycle-state", "e.g. InService (none outside an ASG)", .path(MetadataSource.asg.path)
        ),
    ]

    private init(_ name: String, _ summary: String, _ source: Source) {
        self.name = name
        self.summary = summary
        self.source = source
    }

    /// The attribute called `name`, or `nil`.
    package static func named(_ name: String) -> MetadataAttribute? {
        all.first { $0.name == name }
    }

    /// The attribute list for `get --help`: one line per attribute.
    package static var helpText: String {
        let width = all.map(\.name.count).max() ?? 0
        return all.map { "  " + $0.name + String(repeating: " ", count: width - $0.name.count + 2) + $0.summary }
            .joined(separator: "\n")
    }

    /// The path read to answer this attribute, for messages (`meta-data/public-ipv4`).
    package var path: String {
        switch source {
        case .path(let path), .firstListed(let path): path
        case .identityDocument: MetadataPath.identityDocument
        case .tags: MetadataSource.tags.path
        }
    }

    /// Reads the attribute.
    /// - Parameter walk: Reads with the command's one token.
    /// - Returns: The value, or `nil` when IMDS does not have it (a 404, an empty role list, no such field).
    /// - Throws: ``IMDSError`` for any failed read or a body that cannot be what it should be.
    package func read<C: Clock<Duration>>(with walk: MetadataWalk<C>) async throws(IMDSError) -> MetadataValue? {
        switch source {
        case .path(let path):
            return try await walk.read(path).map { MetadataValue(path: path, bytes: $0) }
        case .firstListed(let directory):
            guard let listing = try await walk.read(directory) else { return nil }
            let first = String(decoding: listing, as: UTF8.self).split(whereSeparator: \.isNewline).first
            return first.map { name in MetadataValue(bytes: Array(name.utf8), json: .string(String(name))) }
        case .identityDocument(let field):
            guard let body = try await walk.read(MetadataPath.identityDocument) else { return nil }
            let document: JSONValue
            do {
                document = try JSONDocument.parse(String(decoding: body, as: UTF8.self))
            } catch {
                throw malformed(MetadataPath.identityDocument, "the identity document is not JSON: \(error)")
            }
            return document[field]?.stringValue.map { MetadataValue(bytes: Array($0.utf8), json: .string($0)) }
        case .tags:
            guard let listing = try await walk.read(MetadataSource.tags.path) else { return nil }
            let keys: [String]
            do {
                keys = try InstanceTags.decodeKeys(String(decoding: listing, as: UTF8.self))
            } catch {
                throw malformed(MetadataSource.tags.path, error.description)
            }
            let values = try await walk.read(keys.map(InstanceTags.valuePath))
            let members = zip(keys, values).compactMap { key, value in
                value.map { (key, JSONValue.string(String(decoding: $0, as: UTF8.self))) }
            }
            let object = JSONValue.object(members)
            return MetadataValue(bytes: Array(object.serialized().utf8), json: object)
        }
    }

    private func malformed(_ path: String, _ detail: String) -> IMDSError {
        IMDSError(code: .malformedResponse, path: path, endpoint: "", status: 200, message: "\(name): \(detail)")
    }
}
