import Foundation

/// Everything the simulated instance reports: identity, tags, notices, events and how the service behaves.
///
/// A value type: change it through ``IMDSSimulator/update(_:)``, the control API (`PUT /_sim/state`, a JSON
/// merge patch of these fields) or a ``Scenario`` step. Dates encode as RFC 3339 strings; when decoding, a
/// date may also be written as `21 Jan 2019 09:00:43 GMT` or as a number of seconds from now.
package struct SimulatorState: Sendable, Codable, Equatable {
    // MARK: Identity

    /// `meta-data/instance-id`.
    package var instanceId: String
    /// `meta-data/instance-type`.
    package var instanceType: String
    /// `meta-data/placement/region`.
    package var region: String
    /// `meta-data/placement/availability-zone`.
    package var availabilityZone: String
    /// The account, in the identity document.
    package var accountId: String
    /// `meta-data/ami-id`.
    package var imageId: String
    /// `meta-data/local-ipv4`.
    package var privateIp: String
    /// `meta-data/hostname`.
    package var hostname: String
    /// The architecture, in the identity document.
    package var architecture: String
    /// When the instance started, in the identity document.
    package var pendingTime: Date

    // MARK: Tags

    /// Whether instance tags are exposed; `false` makes `meta-data/tags/instance` answer 404.
    package var tagsEnabled: Bool
    /// Instance tags, in the order they are listed.
    package var tags: [InstanceTag]
    /// How `meta-data/tags/` lists the key list in the `real` style: `instance` (the real service, as far as is
    /// known) or `instance/` (like every other sub-directory).
    package var tagsListing: TagsListing = .bare

    // MARK: Lifecycle notices

    /// The spot interruption notice, or `nil` (then `spot/instance-action` and `spot/termination-time` are 404).
    package var spot: SpotNotice?
    /// The rebalance recommendation's notice time, or `nil` (404).
    package var rebalance: Date?
    /// Scheduled maintenance events (`events/maintenance/scheduled`).
    package var scheduledEvents: [MaintenanceEvent]
    /// Past maintenance events (`events/maintenance/history`).
    package var maintenanceHistory: [MaintenanceEvent]
    /// How an empty event list is served; `nil` follows ``style`` (`[]` for real, 404 for AEMM).
    package var noEvents: NoEventsForm?
    /// `autoscaling/target-lifecycle-state`, e.g. `InService`; `nil` answers 404 (not in an Auto Scaling group).
    package var asgState: String?

    // MARK: Service behaviour

    /// When `true` every IMDS request answers 403, as when the instance has IMDS turned off.
    package var imdsDisabled: Bool
    /// Body layout: the real service's or amazon-ec2-metadata-mock's.
    package var style: ResponseStyle
    /// The largest TTL a token gets, in seconds, whatever was asked; `nil` grants what was asked.
    package var maxTokenTTL: Int?

    // MARK: Instance details (the categories every real instance has; see SimulatorState+Instance.swift)

    /// `meta-data/placement/availability-zone-id`.
    package var availabilityZoneId = "euw1-az3"
    /// `meta-data/ami-launch-index`.
    package var amiLaunchIndex = 0
    /// `meta-data/reservation-id`.
    package var reservationId = "r-0fedcba9876543210"
    /// `meta-data/instance-life-cycle`: `on-demand`, `spot` or `scheduled`.
    package var instanceLifeCycle = "on-demand"
    /// `meta-data/instance-action`: `none` unless a bundle, reboot or similar action is pending.
    package var instanceAction = "none"
    /// `meta-data/ami-manifest-path`: `(unknown)` for EBS-backed AMIs.
    package var amiManifestPath = "(unknown)"
    /// `meta-data/block-device-mapping/NAME`: the device of each mapping (`ami`, `root`, `ebs1`, ...), listed by name.
    package var blockDeviceMapping = ["ami": "/dev/xvda", "root": "/dev/xvda"]
    /// The primary network interface: `meta-data/mac` and `meta-data/network/interfaces/macs/MAC/`.
    package var network = NetworkInterface()
    /// `meta-data/security-groups` and the interface's `security-groups` / `security-group-ids`.
    package var securityGroups = [SecurityGroup("imdswatch-web", "sg-0a1b2c3d4e5f60718")]
    /// The public IPv4 address, or `nil` for a private instance (then `public-ipv4` and `public-hostname` are 404).
    package var publicIp: String?
    /// `meta-data/public-keys/`: the launch key pairs (empty: 404).
    package var publicKeys = [
        PublicKey(
            "imdswatch-key",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkq3b5mJ0uZ7V0n1aB2cD3eF4gH5iJ6kL7mN8oP9qR0 imdswatch-key")
    ]
    /// The instance profile's role (`iam/info`, `iam/security-credentials/ROLE`), or `nil` for none (404).
    package var iamRole: String? = "imdswatch-instance-role"
    /// `user-data`: any bytes (JSON: base64), or `nil` (404). `PUT /_sim/user-data` sets it from a raw body.
    package var userData: Data? = Data("#!/bin/bash\n# imdswatch simulator user data\necho hello from user data\n".utf8)

    /// Creates a state; every parameter has a realistic default.
    package init(
        instanceId: String = "i-0123456789abcdef0",
        instanceType: String = "m5.large",
        region: String = "eu-west-1",
        availabilityZone: String = "eu-west-1b",
        accountId: String = "123456789012",
        imageId: String = "ami-0abcdef1234567890",
        privateIp: String = "10.0.1.23",
        hostname: String = "ip-10-0-1-23.eu-west-1.compute.internal",
        architecture: String = "x86_64",
        pendingTime: Date = Date(timeIntervalSince1970: 1_790_000_000),
        tagsEnabled: Bool = true,
        tags: [InstanceTag] = [InstanceTag("Name", "imdswatch-simulator")],
        spot: SpotNotice? = nil,
        rebalance: Date? = nil,
        scheduledEvents: [MaintenanceEvent] = [],
        maintenanceHistory: [MaintenanceEvent] = [],
        noEvents: NoEventsForm? = nil,
        asgState: String? = nil,
        imdsDisabled: Bool = false,
        style: ResponseStyle = .real,
        maxTokenTTL: Int? = nil
    ) {
        self.instanceId = instanceId
        self.instanceType = instanceType
        self.region = region
        self.availabilityZone = availabilityZone
        self.accountId = accountId
        self.imageId = imageId
        self.privateIp = privateIp
        self.hostname = hostname
        self.architecture = architecture
        self.pendingTime = pendingTime
        self.tagsEnabled = tagsEnabled
        self.tags = tags
        self.spot = spot
        self.rebalance = rebalance
        self.scheduledEvents = scheduledEvents
        self.maintenanceHistory = maintenanceHistory
        self.noEvents = noEvents
        self.asgState = asgState
        self.imdsDisabled = imdsDisabled
        self.style = style
        self.maxTokenTTL = maxTokenTTL
    }

    /// The JSON field names, used to reject unknown fields in a merge patch.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case instanceId, instanceType, region, availabilityZone, accountId, imageId, privateIp, hostname
        case architecture, pendingTime, tagsEnabled, tags, tagsListing, spot, rebalance, scheduledEvents,
            maintenanceHistory
        case noEvents, asgState, imdsDisabled, style, maxTokenTTL
        case availabilityZoneId, amiLaunchIndex, reservationId, instanceLifeCycle, instanceAction, amiManifestPath
        case blockDeviceMapping, network, securityGroups, publicIp
        case publicKeys, iamRole, userData
    }

    /// The value of tag `key`, or `nil`.
    /// - Parameter key: The tag key, compared exactly.
    /// - Returns: The value of the first tag with that key.
    package func tag(_ key: String) -> String? {
        tags.first { $0.key == key }?.value
    }

    /// Sets tag `key` to `value`, keeping its position, or appends it.
    /// - Parameters:
    ///   - key: The tag key.
    ///   - value: The new value; `nil` removes the tag.
    package mutating func setTag(_ key: String, _ value: String?) {
        if let index = tags.firstIndex(where: { $0.key == key }) {
            if let value { tags[index].value = value } else { tags.remove(at: index) }
        } else if let value {
            tags.append(InstanceTag(key, value))
        }
    }

    /// The form the empty scheduled-event list and history take under the current settings.
    var effectiveNoEvents: NoEventsForm {
        noEvents ?? (style == .aemm ? .notFound : .emptyArray)
    }
}

/// One instance tag.
package struct InstanceTag: Sendable, Codable, Equatable {
    /// The key (`[A-Za-z0-9+-=.,_:@]` on EC2; the simulator serves whatever it is given).
    package var key: String
    /// The value: arbitrary UTF-8.
    package var value: String

    /// Creates a tag.
    /// - Parameters:
    ///   - key: The key.
    ///   - value: The value.
    package init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// A spot interruption notice, as served at `meta-data/spot/instance-action`.
package struct SpotNotice: Sendable, Codable, Equatable {
    /// What happens to the instance.
    package enum Action: String, Sendable, Codable, Equatable, CaseIterable {
        /// The instance is terminated.
        case terminate
        /// The instance is stopped.
        case stop
        /// The instance is hibernated.
        case hibernate
    }

    /// What happens to the instance.
    package var action: Action
    /// When it happens.
    package var time: Date
    /// AEMM behaviour: `time` is ignored and every request answers "now + 2 minutes".
    package var rolling: Bool

    /// Creates a notice.
    /// - Parameters:
    ///   - action: What happens (default `terminate`).
    ///   - time: When (default two minutes from now, rounded to whole seconds).
    ///   - rolling: Serve "now + 2 minutes" on every request instead of `time`, as AEMM does.
    package init(action: Action = .terminate, time: Date = .simulatorWholeSeconds(fromNow: 120), rolling: Bool = false)
    {
        self.action = action
        self.time = time
        self.rolling = rolling
    }

    /// Decodes a notice; `action` defaults to `terminate`, `time` to two minutes from now, `rolling` to `false`.
    /// - Throws: `DecodingError` when a field has the wrong type or an unknown action.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        action = try container.decodeIfPresent(Action.self, forKey: .action) ?? .terminate
        time = try container.decodeIfPresent(Date.self, forKey: .time) ?? .simulatorWholeSeconds(fromNow: 120)
        rolling = try container.decodeIfPresent(Bool.self, forKey: .rolling) ?? false
    }

    /// The time served at `now`: `time`, or now + 2 minutes when rolling.
    func servedTime(now: Date) -> Date {
        rolling ? Date(timeIntervalSince1970: (now.timeIntervalSince1970 + 120).rounded(.down)) : time
    }
}

/// A scheduled maintenance event (`events/maintenance/scheduled` and `history`).
package struct MaintenanceEvent: Sendable, Codable, Equatable {
    /// `EventId`, e.g. `instance-event-0d59937288b749b32`; stable for one event.
    package var eventId: String
    /// `Code`, e.g. `system-reboot`, `instance-reboot`, `instance-stop`, `instance-retirement`, `system-maintenance`.
    package var code: String
    /// `Description`.
    package var description: String
    /// `State`: `active`, `completed` or `canceled`.
    package var state: String
    /// `NotBefore`.
    package var notBefore: Date
    /// `NotAfter`.
    package var notAfter: Date
    /// `NotBeforeDeadline`, when the event can be rescheduled up to a deadline.
    package var notBeforeDeadline: Date?

    /// Creates an event.
    /// - Parameters:
    ///   - eventId: The stable id.
    ///   - code: The event code (default `system-reboot`).
    ///   - description: The description (default `scheduled reboot`).
    ///   - state: The state (default `active`).
    ///   - notBefore: The start of the window.
    ///   - notAfter: The end of the window.
    ///   - notBeforeDeadline: The latest start it can be moved to, if any.
    package init(
        eventId: String,
        code: String = "system-reboot",
        description: String = "scheduled reboot",
        state: String = "active",
        notBefore: Date,
        notAfter: Date,
        notBeforeDeadline: Date? = nil
    ) {
        self.eventId = eventId
        self.code = code
        self.description = description
        self.state = state
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.notBeforeDeadline = notBeforeDeadline
    }

    /// Decodes an event; `code`, `description` and `state` default as in ``init(eventId:code:description:state:notBefore:notAfter:notBeforeDeadline:)``.
    /// - Throws: `DecodingError` when `eventId`, `notBefore` or `notAfter` is missing or a field has the wrong type.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventId = try container.decode(String.self, forKey: .eventId)
        code = try container.decodeIfPresent(String.self, forKey: .code) ?? "system-reboot"
        description = try container.decodeIfPresent(String.self, forKey: .description) ?? "scheduled reboot"
        state = try container.decodeIfPresent(String.self, forKey: .state) ?? "active"
        notBefore = try container.decode(Date.self, forKey: .notBefore)
        notAfter = try container.decode(Date.self, forKey: .notAfter)
        notBeforeDeadline = try container.decodeIfPresent(Date.self, forKey: .notBeforeDeadline)
    }
}

/// How an empty maintenance event list is served.
package enum NoEventsForm: String, Sendable, Codable, Equatable {
    /// `[]`, as the real service does.
    case emptyArray
    /// 404, as amazon-ec2-metadata-mock does.
    case notFound
}

/// How `meta-data/tags/` names the key list `meta-data/tags/instance` in its listing.
package enum TagsListing: String, Sendable, Codable, Equatable, CaseIterable {
    /// `instance`, without the trailing `/` of a sub-directory (the real service, as far as is known).
    case bare = "instance"
    /// `instance/`, as any other sub-directory.
    case slash = "instance/"
}

/// Body layout of the answers.
package enum ResponseStyle: String, Sendable, Codable, Equatable, CaseIterable {
    /// The real service: compact JSON sent as `text/plain`; sub-directories listed with a trailing `/`.
    case real
    /// amazon-ec2-metadata-mock: tab-indented JSON sent as `application/json`; trailing slashes stripped.
    case aemm
}

extension Date {
    /// Now plus `seconds`, rounded down to whole seconds.
    /// - Parameter seconds: The offset from now.
    /// - Returns: The date.
    @usableFromInline
    static func simulatorWholeSeconds(fromNow seconds: Double) -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + seconds).rounded(.down))
    }
}
