import Foundation

extension MetadataNode {
    /// The metadata versions `/` lists, oldest first, then `latest`, as the real service does.
    static let versions = [
        "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01",
        "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25", "2014-11-05", "2015-10-20",
        "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17", "2018-09-24", "2019-10-01",
        "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-09-24", "2024-04-11", "latest",
    ]

    /// Whether this node is listed as a sub-directory.
    var isDirectory: Bool {
        switch self {
        case .directory, .listed: true
        case .text, .json, .bytes: false
        }
    }

    /// The `meta-data/` categories every real instance has besides identity, lifecycle and tags.
    static func instanceDetails(_ state: SimulatorState) -> [(String, MetadataNode)] {
        var children: [(String, MetadataNode)] = [
            ("ami-launch-index", .text(String(state.amiLaunchIndex))),
            ("ami-manifest-path", .text(state.amiManifestPath)),
            ("instance-action", .text(state.instanceAction)),
            ("instance-life-cycle", .text(state.instanceLifeCycle)),
            ("mac", .text(state.network.mac)),
            (
                "network",
                .directory([
                    (
                        "interfaces",
                        .directory([
                            (
                                "macs",
                                .directory([
                                    (state.network.mac, primaryInterface(state))
                                ])
                            )
                        ])
                    )
                ])
            ),
            ("profile", .text("default-hvm")),
            ("reservation-id", .text(state.reservationId)),
            ("security-groups", .text(state.securityGroups.map(\.name).joined(separator: "\n"))),
            ("services", .directory([("domain", .text(state.domain)), ("partition", .text(state.partition))])),
            ("system", .text("nitro")),
        ]
        if !state.blockDeviceMapping.isEmpty {
            let devices = state.blockDeviceMapping.sorted { $0.key < $1.key }
            children.append(("block-device-mapping", .directory(devices.map { ($0.key, .text($0.value)) })))
        }
        if let publicIp = state.publicIp, let publicHostname = state.publicHostname {
            children.append(("public-hostname", .text(publicHostname)))
            children.append(("public-ipv4", .text(publicIp)))
        }
        if !state.publicKeys.isEmpty {
            let keys = state.publicKeys.enumerated()
            children.append(
                (
                    "public-keys",
                    .listed(
                        keys.map { "\($0.offset)=\($0.element.name)" }.joined(separator: "\n"),
                        keys.map {
                            (String($0.offset), MetadataNode.directory([("openssh-key", .text($0.element.openssh))]))
                        }
                    )
                ))
        }
        return children
    }

    private static func primaryInterface(_ state: SimulatorState) -> MetadataNode {
        let network = state.network
        var entries: [(String, MetadataNode)] = [
            ("device-number", .text("0")),
            ("interface-id", .text(network.interfaceId)),
            ("local-hostname", .text(state.hostname)),
            ("local-ipv4s", .text(state.privateIp)),
            ("mac", .text(network.mac)),
            ("network-card-index", .text("0")),
            ("owner-id", .text(state.accountId)),
            ("security-group-ids", .text(state.securityGroups.map(\.id).joined(separator: "\n"))),
            ("security-groups", .text(state.securityGroups.map(\.name).joined(separator: "\n"))),
            ("subnet-id", .text(network.subnetId)),
            ("subnet-ipv4-cidr-block", .text(network.subnetCidr)),
            ("vpc-id", .text(network.vpcId)),
            ("vpc-ipv4-cidr-block", .text(network.vpcCidr)),
            ("vpc-ipv4-cidr-blocks", .text(network.vpcCidr)),
        ]
        if let publicIp = state.publicIp, let publicHostname = state.publicHostname {
            entries.append(("ipv4-associations", .directory([(publicIp, .text(state.privateIp))])))
            entries.append(("public-hostname", .text(publicHostname)))
            entries.append(("public-ipv4s", .text(publicIp)))
        }
        return .directory(entries.sorted { $0.0 < $1.0 })
    }

    /// `pkcs7`, `rsa2048` and `signature` next to the identity document: base64 text shaped like the real ones
    /// (not valid signatures).
    static func identitySignatures(_ state: SimulatorState) -> [(String, MetadataNode)] {
        let seed = Array("\(state.accountId)/\(state.instanceId)/\(state.region)".utf8)
        func blob(_ length: Int) -> String {
            let bytes = (0..<length).map { seed[$0 % seed.count] &+ UInt8(truncatingIfNeeded: $0 &* 31) }
            let base64 = Data(bytes).base64EncodedString()
            return stride(from: 0, to: base64.count, by: 64).map { offset in
                let start = base64.index(base64.startIndex, offsetBy: offset)
                return String(
                    base64[start..<(base64.index(start, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex)])
            }.joined(separator: "\n")
        }
        return [("pkcs7", .text(blob(1_050))), ("rsa2048", .text(blob(1_400))), ("signature", .text(blob(256)))]
    }
}
