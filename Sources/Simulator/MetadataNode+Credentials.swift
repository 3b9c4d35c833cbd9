import Events
import Foundation

// Identity credentials for the default instance, and the place of `iam/` in the tree (its answers, rotating role
// credentials, come from `SimulatedAWS`).

extension MetadataNode {
    /// `iam/` (when the instance has a role) and `identity-credentials/`.
    static func credentials(_ state: SimulatorState, now: Date) -> [(String, MetadataNode)] {
        // Issued at the last whole hour, valid six hours, as the real service rotates them.
        let issued = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        var children: [(String, MetadataNode)] = [
            (
                "identity-credentials",
                .directory([
                    (
                        "ec2",
                        .directory([
                            (
                                "info",
                                .json(
                                    .object([
                                        ("Code", .string("Success")),
                                        (
                                            "LastUpdated",
                                            .string(Timestamp.rfc3339(seconds: state.pendingTime.epochSeconds))
                                        ),
                                        ("AccountId", .string(state.accountId)),
                                    ]), realLayout: .realPretty)
                            ),
                            (
                                "security-credentials",
                                .directory([
                                    (
                                        "ec2-instance",
                                        credentialDocument(
                                            accessKeyId: "ASIAIMDSWATCHIDENT01",
                                            secret: "identitySecretKey/imdswatch/simulator00", issued: issued,
                                            state: state
                                        )
                                    )
                                ])
                            ),
                        ])
                    )
                ])
            )
        ]
        if let role = state.iamRole {
            // Listed here so that `meta-data/` names `iam/`; every `iam/` path is answered by `SimulatedAWS`
            // (rotating credentials for this role), which the router asks before this tree.
            children.append(
                ("iam", .directory([("info", .text("")), ("security-credentials", .directory([(role, .text(""))]))])))
        }
        return children
    }

    /// A credential document shaped like the real one, with fake values.
    private static func credentialDocument(accessKeyId: String, secret: String, issued: Date, state: SimulatorState)
        -> MetadataNode
    {
        let token =
            "IQoJb3JpZ2luX2VjEIMDSWATCHSIMULATORTOKEN"
            + Data("\(state.instanceId)/\(accessKeyId)".utf8).base64EncodedString()
        return .json(
            .object([
                ("Code", .string("Success")),
                ("LastUpdated", .string(Timestamp.rfc3339(seconds: issued.epochSeconds))),
                ("Type", .string("AWS-HMAC")),
                ("AccessKeyId", .string(accessKeyId)),
                ("SecretAccessKey", .string(secret)),
                ("Token", .string(token)),
                ("Expiration", .string(Timestamp.rfc3339(seconds: issued.addingTimeInterval(6 * 3600).epochSeconds))),
            ]), realLayout: .realPretty)
    }
}
