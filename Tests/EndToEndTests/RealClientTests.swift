import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Real clients (ec2-metadata, ec2imds, the curl recipe from the EC2 user guide) read the simulator's default
/// instance and find every category a real private instance has.
@Suite struct RealClientTests {
    static func interop(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/\(name)").path
    }

    @Test func ec2MetadataAndEc2imdsFindEveryCategoryOfARealInstance() async throws {
        try await withSimulator { simulator in
            let outcome = try await ProcessRunner.run(
                InteropTests.python, [Self.interop("instance_categories.py"), simulator.baseURL], timeout: .seconds(90))
            #expect(outcome.status == 0, "python failed: \(outcome.stderr)")
            let result = try JSONDocument.parse(outcome.stdout)

            // ec2-metadata: every attribute a real private instance has returns a value; none raises.
            guard case .object(let attributes) = try #require(result["ec2_metadata"]) else {
                Issue.record("no ec2_metadata object: \(outcome.stdout)")
                return
            }
            #expect(attributes.count == 28)
            for (name, value) in attributes {
                #expect(value != .null, "ec2-metadata \(name) is None")
                #expect(value["error"] == nil, "ec2-metadata \(name) raised: \(value["error"]?.stringValue ?? "")")
            }
            let interface = result["ec2_metadata"]?["network_interfaces"]?["06:1a:2b:3c:4d:5e"]
            for name in [
                "device_number", "interface_id", "owner_id", "private_ipv4s", "security_group_ids", "subnet_id",
                "vpc_id",
            ] {
                #expect(
                    interface?[name] != nil && interface?[name] != .null && interface?[name]?["error"] == nil,
                    "interface \(name): \(String(describing: interface?[name]))")
            }
            #expect(result["ec2_metadata"]?["mac"] == "06:1a:2b:3c:4d:5e")
            #expect(result["ec2_metadata"]?["account_id"] == "123456789012")
            #expect(
                result["ec2_metadata"]?["iam_security_credentials"]?["AccessKeyId"]?.stringValue?.hasPrefix("ASIA")
                    == true)
            #expect(result["ec2_metadata"]?["user_data"]?["bytes"] != nil)

            // ec2imds: no null for a category a real instance has.
            let ec2imds = try #require(result["ec2imds"])
            #expect(ec2imds["error"] == nil, "ec2imds failed: \(ec2imds["error"]?.stringValue ?? "")")
            for category in [
                "meta-data/ami-id", "meta-data/ami-launch-index", "meta-data/ami-manifest-path",
                "meta-data/block-device-mapping",
                "meta-data/events/maintenance/history", "meta-data/events/maintenance/scheduled", "meta-data/hostname",
                "meta-data/iam/info", "meta-data/iam/security-credentials", "meta-data/identity-credentials/ec2/info",
                "meta-data/identity-credentials/ec2/security-credentials/ec2-instance", "meta-data/instance-action",
                "meta-data/instance-id", "meta-data/instance-life-cycle", "meta-data/instance-type",
                "meta-data/local-hostname",
                "meta-data/local-ipv4", "meta-data/mac", "meta-data/network/interfaces/macs",
                "meta-data/placement/availability-zone",
                "meta-data/placement/availability-zone-id", "meta-data/placement/region", "meta-data/profile",
                "meta-data/public-keys",
                "meta-data/reservation-id", "meta-data/security-groups", "meta-data/services/domain",
                "meta-data/services/partition",
                "meta-data/tags/instance", "meta-data/system",
            ] {
                #expect(ec2imds[category] != nil && ec2imds[category] != .null, "ec2imds prints null for \(category)")
            }
            #expect(
                ec2imds["meta-data/network/interfaces/macs"]?["06:1a:2b:3c:4d:5e"]?["subnet-id"]
                    == "subnet-0123abcd4567ef890")
            #expect(simulator.statistics.responsesByStatus["401"] == nil, "both clients used IMDSv2 tokens correctly")
        }
    }

    @Test func curlRecipePrintsTenRealValues() async throws {
        try await withSimulator { simulator in
            let outcome = try await ProcessRunner.run(
                "/bin/bash", [Self.interop("curl_recipe.sh"), simulator.baseURL], timeout: .seconds(60))
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let lines = outcome.stdout.split(separator: "\n").map(String.init)
            #expect(
                lines == [
                    "instance-id=i-0123456789abcdef0",
                    "mac=06:1a:2b:3c:4d:5e",
                    "availability-zone-id=euw1-az3",
                    "region=eu-west-1",
                    "security-groups=imdswatch-web",
                    "account-id=123456789012",
                    "subnet-id=subnet-0123abcd4567ef890",
                    "vpc-id=vpc-0a1b2c3d4e5f6a7b8",
                    "iam-role=imdswatch-instance-role",
                    "partition=aws",
                ])
        }
    }
}
