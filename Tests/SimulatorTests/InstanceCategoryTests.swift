import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// The default instance has every category a real instance has, user data is binary and settable, and states real
/// EC2 cannot have are refused unless asked for as a fault.
@Suite("Instance categories")
struct InstanceCategoryTests {
    @Test func defaultInstanceServesEveryRealCategory() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            func text(_ path: String) async throws -> String {
                let response = try await client.get(path, token: token)
                #expect(response.status == 200, "\(path) answered \(response.status)")
                return response.bodyText
            }
            let mac = try await text("meta-data/mac")
            #expect(mac == "06:1a:2b:3c:4d:5e")
            let expected: [String: String] = [
                "meta-data/ami-launch-index": "0",
                "meta-data/ami-manifest-path": "(unknown)",
                "meta-data/block-device-mapping/root": "/dev/xvda",
                "meta-data/instance-action": "none",
                "meta-data/instance-life-cycle": "on-demand",
                "meta-data/local-hostname": "ip-10-0-1-23.eu-west-1.compute.internal",
                "meta-data/placement/availability-zone-id": "euw1-az3",
                "meta-data/reservation-id": "r-0fedcba9876543210",
                "meta-data/security-groups": "imdswatch-web",
                "meta-data/services/domain": "amazonaws.com",
                "meta-data/services/partition": "aws",
                "meta-data/iam/security-credentials/": "imdswatch-instance-role",
                "meta-data/public-keys/": "0=imdswatch-key",
                "meta-data/network/interfaces/macs/": "\(mac)/",
                "meta-data/network/interfaces/macs/\(mac)/device-number": "0",
                "meta-data/network/interfaces/macs/\(mac)/interface-id": "eni-0a1b2c3d4e5f67890",
                "meta-data/network/interfaces/macs/\(mac)/local-ipv4s": "10.0.1.23",
                "meta-data/network/interfaces/macs/\(mac)/subnet-id": "subnet-0123abcd4567ef890",
                "meta-data/network/interfaces/macs/\(mac)/vpc-id": "vpc-0a1b2c3d4e5f6a7b8",
                "meta-data/network/interfaces/macs/\(mac)/security-group-ids": "sg-0a1b2c3d4e5f60718",
                "dynamic/instance-identity/": "document\npkcs7\nrsa2048\nsignature",
                "": "dynamic\nmeta-data\nuser-data",
            ]
            for (path, value) in expected {
                #expect(try await text(path) == value, "\(path)")
            }
            #expect(try await text("meta-data/public-keys/0/openssh-key").hasPrefix("ssh-ed25519 "))
            let credentials = try await text("meta-data/iam/security-credentials/imdswatch-instance-role")
            #expect(credentials.contains("\"AccessKeyId\" : \"ASIA"))
            #expect(credentials.contains("\"Token\" : "))
            #expect(credentials.contains("\"Expiration\" : "))
            #expect(try await text("meta-data/iam/info").contains("instance-profile/imdswatch-instance-role"))
            #expect(
                try await text("meta-data/identity-credentials/ec2/info").contains("\"AccountId\" : \"123456789012\""))
            #expect(try await client.get("meta-data/public-ipv4", token: token).status == 404, "a private instance")
        }
    }

    @Test func rootListsDatedVersionsBeforeLatest() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let versions = try await client.get("/", token: client.token()).bodyText.split(separator: "\n")
            #expect(versions.first == "1.0")
            #expect(versions.last == "latest")
            #expect(versions.contains("2021-01-03"))
            #expect(versions.count > 20)
        }
    }

    @Test func publicInstanceServesPublicAddresses() async throws {
        var state = SimulatorState()
        state.publicIp = "203.0.113.25"
        try await withSimulator(state: state) { simulator in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/public-ipv4", token: token).bodyText == "203.0.113.25")
            #expect(
                try await client.get("meta-data/public-hostname", token: token).bodyText
                    == "ec2-203-0-113-25.eu-west-1.compute.amazonaws.com")
        }
    }

    @Test func categoriesAreSettableThroughTheControlAPI() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let patch = #"""
                {"publicIp": "198.51.100.7", "network": {"mac": "0a:00:00:00:00:01"}, "instanceLifeCycle": "spot",
                 "securityGroups": [{"name": "web", "id": "sg-1"}, {"name": "ssh", "id": "sg-2"}],
                 "blockDeviceMapping": {"ebs1": "/dev/sdb"}, "instanceAction": "reboot", "availabilityZoneId": "euw1-az1",
                 "iamRole": null, "publicKeys": [], "region": "cn-north-1"}
                """#
            let put = try await client.control(.put, "/_sim/state", json: patch)
            #expect(put.status == 200, "\(put.bodyText)")
            let token = try await client.token()
            let expected: [String: String] = [
                "meta-data/public-ipv4": "198.51.100.7",
                "meta-data/mac": "0a:00:00:00:00:01",
                "meta-data/network/interfaces/macs/0a:00:00:00:00:01/ipv4-associations/198.51.100.7": "10.0.1.23",
                "meta-data/network/interfaces/macs/0a:00:00:00:00:01/subnet-id": "subnet-0123abcd4567ef890",
                "meta-data/instance-life-cycle": "spot",
                "meta-data/security-groups": "web\nssh",
                "meta-data/block-device-mapping/": "ami\nebs1\nroot",
                "meta-data/instance-action": "reboot",
                "meta-data/placement/availability-zone-id": "euw1-az1",
                "meta-data/services/partition": "aws-cn",
                "meta-data/services/domain": "amazonaws.com.cn",
            ]
            for (path, value) in expected {
                #expect(try await client.get(path, token: token).bodyText == value, "\(path)")
            }
            #expect(try await client.get("meta-data/iam/info", token: token).status == 404)
            #expect(try await client.get("meta-data/public-keys/", token: token).status == 404)
        }
    }

    @Test func userDataIsBinaryAndSettableThroughTheControlAPI() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let bytes = (0...255).map(UInt8.init) + [0xC3, 0x28, 0xFF, 0xFE]
            let put = try await client.transport.send(
                HTTPRequest(method: .put, url: simulator.baseURL + "/_sim/user-data", body: bytes))
            #expect(put.status == 200, "\(put.bodyText)")
            #expect(simulator.state.userData == Data(bytes))
            let served = try await client.get("user-data", token: client.token())
            #expect(served.body == bytes)
            let cleared = try await client.control(.post, "/_sim/user-data/clear")
            #expect(cleared.status == 200)
            #expect(try await client.get("user-data", token: client.token()).status == 404)
        }
    }

    @Test(arguments: [
        (#"{"tags": [{"key": "a/b", "value": "x"}]}"#, "a/b"),
        (#"{"tags": [{"key": "Name", "value": "x"}, {"key": "Name", "value": "y"}]}"#, "twice"),
        (#"{"asgState": "Bench-0001"}"#, "unknown Auto Scaling state"),
    ])
    func refusesImpossibleStatesUnlessAskedForAsAFault(patch: String, problem: String) async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let refused = try await client.control(.put, "/_sim/state", json: patch)
            #expect(refused.status == 400)
            #expect(refused.bodyText.contains(problem), "\(refused.bodyText)")
            #expect(!refused.bodyText.dropLast().contains("\n"), "one line")
            #expect(simulator.state == SimulatorState(), "the state is unchanged")
            let forced = try await client.control(.put, "/_sim/state?unchecked=true", json: patch)
            #expect(forced.status == 200, "\(forced.bodyText)")
            #expect(simulator.state != SimulatorState())
        }
    }
}
