import Foundation

/// The simulated instance's primary network interface (`meta-data/network/interfaces/macs/MAC/`).
package struct NetworkInterface: Sendable, Codable, Equatable {
    /// The MAC address, also served at `meta-data/mac`.
    package var mac = "06:1a:2b:3c:4d:5e"
    /// `interface-id`.
    package var interfaceId = "eni-0a1b2c3d4e5f67890"
    /// `subnet-id`.
    package var subnetId = "subnet-0123abcd4567ef890"
    /// `subnet-ipv4-cidr-block`.
    package var subnetCidr = "10.0.1.0/24"
    /// `vpc-id`.
    package var vpcId = "vpc-0a1b2c3d4e5f6a7b8"
    /// `vpc-ipv4-cidr-block` and `vpc-ipv4-cidr-blocks`.
    package var vpcCidr = "10.0.0.0/16"

    /// Creates the default interface.
    package init() {}
}

/// A security group: its name (`security-groups`) and id (`security-group-ids`).
package struct SecurityGroup: Sendable, Codable, Equatable {
    /// The group name.
    package var name: String
    /// The group id, `sg-...`.
    package var id: String

    /// Creates a group.
    package init(_ name: String, _ id: String) {
        self.name = name
        self.id = id
    }
}

/// A launch key pair, served as `public-keys/INDEX=NAME` and `public-keys/INDEX/openssh-key`.
package struct PublicKey: Sendable, Codable, Equatable {
    /// The key pair's name.
    package var name: String
    /// The OpenSSH public key line.
    package var openssh: String

    /// Creates a key.
    package init(_ name: String, _ openssh: String) {
        self.name = name
        self.openssh = openssh
    }
}

extension SimulatorState {
    /// `services/partition`, from the region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else `aws`.
    var partition: String {
        if region.hasPrefix("cn-") { return "aws-cn" }
        if region.hasPrefix("us-gov-") { return "aws-us-gov" }
        return "aws"
    }

    /// `services/domain`, from the partition.
    var domain: String {
        partition == "aws-cn" ? "amazonaws.com.cn" : "amazonaws.com"
    }

    /// `public-hostname`, from ``publicIp``: `ec2-203-0-113-25.eu-west-1.compute.amazonaws.com`.
    var publicHostname: String? {
        publicIp.map { ip in
            let host = "ec2-" + ip.replacingOccurrences(of: ".", with: "-")
            return region == "us-east-1" ? "\(host).compute-1.\(domain)" : "\(host).\(region).compute.\(domain)"
        }
    }

    /// The target lifecycle states Auto Scaling serves at `autoscaling/target-lifecycle-state`.
    package static let autoScalingStates: Set<String> = [
        "InService", "Standby", "Detached", "Terminated",
        "Warmed:Running", "Warmed:Stopped", "Warmed:Hibernated", "Warmed:Terminated",
    ]

    /// The largest user data EC2 accepts (16 KiB).
    package static let maxUserDataBytes = 16 * 1024

    /// What makes this state one real EC2 cannot have, or `nil` when it is possible.
    /// - Returns: One line naming the field and the problem.
    package func impossibility() -> String? {
        var seen: Set<String> = []
        for tag in tags {
            if tag.key.isEmpty { return "tags: a tag key cannot be empty" }
            if tag.key.contains("/") {
                return
                    "tags: key \"\(tag.key)\" contains \"/\", which IMDS cannot serve (EC2 refuses such keys when tags are in metadata)"
            }
            if !seen.insert(tag.key).inserted {
                return "tags: key \"\(tag.key)\" appears twice; EC2 tag keys are unique"
            }
        }
        if let asgState, !Self.autoScalingStates.contains(asgState) {
            return
                "asgState: unknown Auto Scaling state \"\(asgState)\"; expected one of \(Self.autoScalingStates.sorted().joined(separator: ", "))"
        }
        if let userData, userData.count > Self.maxUserDataBytes {
            return "userData: \(userData.count) bytes; EC2 accepts at most \(Self.maxUserDataBytes)"
        }
        return nil
    }
}
