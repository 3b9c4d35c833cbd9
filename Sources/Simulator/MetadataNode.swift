import Events
import Foundation

/// The metadata a state exposes, as a tree of directories and documents, built afresh for each request.
indirect enum MetadataNode: Sendable {
    /// A directory: named children, listed in this order.
    case directory([(String, MetadataNode)])
    /// A plain-text document.
    case text(String)
    /// A JSON document and the layout the real service uses for it.
    case json(JSONBody, realLayout: JSONBody.Layout)
    /// A binary document (user data).
    case bytes([UInt8])
    /// A directory whose listing is not its child names (`public-keys/` lists `0=name`, its child is `0/`).
    case listed(String, [(String, MetadataNode)])

    /// The tree under `/latest/` for `state` at `now`.
    static func latest(_ state: SimulatorState, now: Date) -> MetadataNode {
        var categories: [(String, MetadataNode)] = [
            ("dynamic", dynamic(state)),
            ("meta-data", metaData(state, now: now)),
        ]
        if let userData = state.userData { categories.append(("user-data", .bytes(Array(userData)))) }
        return .directory(categories)
    }

    /// The node at `components` (path segments below `/latest/`), or `nil` when nothing is there.
    func child(at components: some Collection<String>) -> MetadataNode? {
        guard let first = components.first else { return self }
        let children: [(String, MetadataNode)]
        switch self {
        case .directory(let entries), .listed(_, let entries): children = entries
        default: return nil
        }
        guard let next = children.first(where: { $0.0 == first })?.1 else { return nil }
        return next.child(at: components.dropFirst())
    }

    private static func metaData(_ state: SimulatorState, now: Date) -> MetadataNode {
        var children: [(String, MetadataNode)] = [
            ("ami-id", .text(state.imageId)),
            ("events", events(state)),
            ("hostname", .text(state.hostname)),
            ("instance-id", .text(state.instanceId)),
            ("instance-type", .text(state.instanceType)),
            ("local-hostname", .text(state.hostname)),
            ("local-ipv4", .text(state.privateIp)),
            (
                "placement",
                .directory([
                    ("availability-zone", .text(state.availabilityZone)),
                    ("availability-zone-id", .text(state.availabilityZoneId)),
                    ("region", .text(state.region)),
                ])
            ),
        ]
        children += instanceDetails(state)
        children += credentials(state, now: now)
        if let asgState = state.asgState {
            children.append(("autoscaling", .directory([("target-lifecycle-state", .text(asgState))])))
        }
        if let spot = state.spot {
            let time = Timestamp.rfc3339(seconds: spot.servedTime(now: now).epochSeconds)
            children.append(
                (
                    "spot",
                    .directory([
                        (
                            "instance-action",
                            .json(
                                .object([("action", .string(spot.action.rawValue)), ("time", .string(time))]),
                                realLayout: .compact
                            )
                        ),
                        ("termination-time", .text(time)),
                    ])
                ))
        }
        if state.tagsEnabled {
            children.append(
                (
                    "tags",
                    .directory([
                        ("instance", .directory(state.tags.map { ($0.key, .text($0.value)) }))
                    ])
                ))
        }
        return .directory(children.sorted { $0.0 < $1.0 })
    }

    private static func events(_ state: SimulatorState) -> MetadataNode {
        var maintenance: [(String, MetadataNode)] = []
        let emptyIsArray = state.effectiveNoEvents == .emptyArray
        if !state.maintenanceHistory.isEmpty || emptyIsArray {
            maintenance.append(("history", eventList(state.maintenanceHistory)))
        }
        if !state.scheduledEvents.isEmpty || emptyIsArray {
            maintenance.append(("scheduled", eventList(state.scheduledEvents)))
        }
        var children: [(String, MetadataNode)] = [("maintenance", .directory(maintenance))]
        if let rebalance = state.rebalance {
            children.append(
                (
                    "recommendations",
                    .directory([
                        (
                            "rebalance",
                            .json(
                                .object([("noticeTime", .string(Timestamp.rfc3339(seconds: rebalance.epochSeconds)))]),
                                realLayout: .compact)
                        )
                    ])
                ))
        }
        return .directory(children)
    }

    private static func eventList(_ events: [MaintenanceEvent]) -> MetadataNode {
        .json(
            .array(
                events.map { event in
                    var members: [(String, JSONBody)] = [
                        ("NotBefore", .string(Timestamp.maintenanceEventDate(seconds: event.notBefore.epochSeconds))),
                        ("Code", .string(event.code)),
                        ("Description", .string(event.description)),
                        ("EventId", .string(event.eventId)),
                        ("NotAfter", .string(Timestamp.maintenanceEventDate(seconds: event.notAfter.epochSeconds))),
                        ("State", .string(event.state)),
                    ]
                    if let deadline = event.notBeforeDeadline {
                        members.append(
                            (
                                "NotBeforeDeadline",
                                .string(Timestamp.maintenanceEventDate(seconds: deadline.epochSeconds))
                            ))
                    }
                    return .object(members)
                }), realLayout: .compact)
    }

    private static func dynamic(_ state: SimulatorState) -> MetadataNode {
        let document: JSONBody = .object([
            ("accountId", .string(state.accountId)),
            ("architecture", .string(state.architecture)),
            ("availabilityZone", .string(state.availabilityZone)),
            ("billingProducts", .null),
            ("devpayProductCodes", .null),
            ("marketplaceProductCodes", .null),
            ("imageId", .string(state.imageId)),
            ("instanceId", .string(state.instanceId)),
            ("instanceType", .string(state.instanceType)),
            ("kernelId", .null),
            ("pendingTime", .string(Timestamp.rfc3339(seconds: state.pendingTime.epochSeconds))),
            ("privateIp", .string(state.privateIp)),
            ("ramdiskId", .null),
            ("region", .string(state.region)),
            ("version", .string("2017-09-30")),
        ])
        return .directory([
            (
                "instance-identity",
                .directory(
                    [("document", .json(document, realLayout: .realPretty))] + identitySignatures(state)
                )
            )
        ])
    }
}
