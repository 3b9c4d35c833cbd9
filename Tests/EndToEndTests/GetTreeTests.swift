import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// `imdswatch get`: bytes exactly as served, the whole tree (`--all`, `--match`, `--list`), attributes and `--json`.
@Suite struct GetTreeTests {
    /// The attributes the contract names, as ec2-metadata has them.
    static let attributes = [
        "account-id", "ami-id", "availability-zone", "availability-zone-id", "domain", "iam-role", "instance-id",
        "instance-life-cycle", "instance-type", "mac", "partition", "private-hostname", "private-ipv4",
        "public-hostname", "public-ipv4", "region", "reservation-id", "security-groups", "tags",
        "spot-instance-action", "autoscaling-target-lifecycle-state",
    ]

    @Test func userDataIsByteExactForArbitraryBytes() async throws {
        // Every byte value, then invalid UTF-8 (a lone continuation, an overlong form, a surrogate, 0xFF) and no final LF.
        let bytes = (0...255).map(UInt8.init) + [0x80, 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0xFF, 0xFE, 0x00, 0x41]
        var state = SimulatorState()
        state.userData = Data(bytes)
        try await withSimulator(state: state) { simulator in
            let outcome = try await ProcessRunner.imdswatch(["get", "user-data", "--endpoint", simulator.baseURL])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdoutBytes.count == bytes.count)
            #expect(outcome.stdoutBytes == bytes)
        }
    }

    @Test func allIsTheWholeTreeAsOneDocumentWithoutUserDataOrCredentials() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            var secrets: [String] = []
            for path in [
                "meta-data/iam/security-credentials/imdswatch-instance-role",
                "meta-data/identity-credentials/ec2/security-credentials/ec2-instance",
            ] {
                let document = try JSONDocument.parse(try await client.get(path, token: token).bodyText)
                for field in ["AccessKeyId", "SecretAccessKey", "Token"] {
                    secrets.append(try #require(document[field]?.stringValue, "\(path) \(field)"))
                }
            }
            simulator.resetStatistics()

            let outcome = try await ProcessRunner.imdswatch(["get", "--all", "--endpoint", simulator.baseURL])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let tree = try JSONDocument.parse(outcome.stdout)
            #expect(tree["meta-data"]?["placement"]?["region"] == "eu-west-1")
            #expect(tree["dynamic"]?["instance-identity"]?["document"]?["accountId"] == "123456789012", "JSON embedded")
            #expect(tree["meta-data"]?["tags"]?["instance"]?["Name"] == "imdswatch-simulator")
            #expect(
                tree["meta-data"]?["network"]?["interfaces"]?["macs"]?["06:1a:2b:3c:4d:5e"]?["subnet-id"]
                    == "subnet-0123abcd4567ef890")
            #expect(
                tree["meta-data"]?["public-keys"]?["0"]?["openssh-key"]?.stringValue?.hasPrefix("ssh-ed25519") == true)
            #expect(tree["user-data"] == nil, "no user data in --all")
            #expect(
                tree["meta-data"]?["iam"]?["security-credentials"]?["imdswatch-instance-role"] != nil,
                "the role is named")
            #expect(tree["meta-data"]?["iam"]?["info"]?["InstanceProfileArn"] != nil)
            for secret in secrets + ["ASIA", "SecretAccessKey", "\"Token\""] {
                #expect(!outcome.stdout.contains(secret), "--all shows a credential: \(secret)")
            }
            let stats = simulator.statistics
            #expect(stats.tokenRequests == 1, "one token for the whole walk")
            #expect(stats.requestsByPath["user-data"] == nil, "user data is never read by --all")
            #expect(
                stats.requestsByPath["meta-data/iam/security-credentials/imdswatch-instance-role"] == nil,
                "credentials are never read")

            // Asked for by path, a credential is printed: the user asked for it.
            let explicit = try await ProcessRunner.imdswatch([
                "get", "meta-data/iam/security-credentials/imdswatch-instance-role", "--endpoint", simulator.baseURL,
            ])
            #expect(explicit.stdout.contains(secrets[0]))
        }
    }

    @Test func anIMDSErrorDuringTheWalkFailsTheCommandInsteadOfDroppingThePath() async throws {
        try await withSimulator { simulator in
            simulator.inject(Fault(path: "meta-data/placement/", kind: .status(403)))
            for arguments in [["--all"], ["--list"], ["--match", "region"]] {
                let outcome = try await ProcessRunner.imdswatch(
                    ["get"] + arguments + ["--endpoint", simulator.baseURL])
                #expect(outcome.status == 2, "\(arguments): an error is never read as absent")
                #expect(outcome.stdout.isEmpty, "\(arguments): no partial document")
                #expect(
                    outcome.stderr.contains("meta-data/placement/") && outcome.stderr.contains("403"),
                    "\(outcome.stderr)")
            }
        }
    }

    @Test func tagValuesStayStringsEvenWhenTheyLookLikeJSON() async throws {
        var state = SimulatorState()
        state.tags = [InstanceTag("Name", "web-1"), InstanceTag("config", #"{"a": 1}"#), InstanceTag("list", "[1, 2]")]
        try await withSimulator(state: state) { simulator in
            let outcome = try await ProcessRunner.imdswatch(["get", "--all", "--json", "--endpoint", simulator.baseURL])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let tags = try JSONDocument.parse(outcome.stdout)["meta-data"]?["tags"]?["instance"]
            #expect(tags == .object([("Name", "web-1"), ("config", .string(#"{"a": 1}"#)), ("list", "[1, 2]")]))
            let attribute = try await ProcessRunner.imdswatch([
                "get", "--json", "tags", "--endpoint", simulator.baseURL,
            ])
            #expect(try JSONDocument.parse(attribute.stdout)["tags"]?["config"] == .string(#"{"a": 1}"#))
        }
    }

    @Test func matchKeepsOnlyMatchingLeavesInTheSameShape() async throws {
        try await withSimulator { simulator in
            let outcome = try await ProcessRunner.imdswatch([
                "get", "--match", "placement/|^dynamic/.*document$", "--endpoint", simulator.baseURL,
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let tree = try JSONDocument.parse(outcome.stdout)
            #expect(tree["meta-data"]?["placement"]?["region"] == "eu-west-1")
            #expect(tree["meta-data"]?["placement"]?["availability-zone-id"] == "euw1-az3")
            #expect(tree["dynamic"]?["instance-identity"]?["document"]?["region"] == "eu-west-1")
            #expect(tree["dynamic"]?["instance-identity"]?["pkcs7"] == nil)
            #expect(tree["meta-data"]?["instance-id"] == nil)
            #expect(tree["meta-data"]?["tags"] == nil)

            let bad = try await ProcessRunner.imdswatch(["get", "--match", "([", "--endpoint", simulator.baseURL])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("([") && bad.stderr.contains("regex"), "\(bad.stderr)")
        }
    }

    @Test func listPrintsEveryLeafPathReadingDirectoriesOnly() async throws {
        try await withSimulator { simulator in
            let outcome = try await ProcessRunner.imdswatch(["get", "--list", "--endpoint", simulator.baseURL])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let paths = outcome.stdout.split(separator: "\n").map(String.init)
            for path in [
                "meta-data/instance-id", "meta-data/placement/region", "meta-data/tags/instance/Name",
                "dynamic/instance-identity/document", "meta-data/public-keys/0/openssh-key",
                "meta-data/iam/security-credentials/imdswatch-instance-role", "user-data",
                "meta-data/network/interfaces/macs/06:1a:2b:3c:4d:5e/vpc-id",
            ] {
                #expect(paths.contains(path), "\(path) missing from --list")
            }
            #expect(!paths.contains { $0.hasSuffix("/") || $0.isEmpty }, "leaves only")
            #expect(Set(paths).count == paths.count)
            #expect(simulator.statistics.requestsByPath["meta-data/instance-id"] == nil, "--list reads no leaf")
        }
    }

    @Test func attributesReadWhatEC2MetadataNamesThem() async throws {
        try await withSimulator { simulator in
            let names = [
                "region", "account-id", "availability-zone-id", "mac", "security-groups", "iam-role",
                "domain", "partition", "private-ipv4", "instance-life-cycle", "reservation-id", "tags",
            ]
            let outcome = try await ProcessRunner.imdswatch(["get"] + names + ["--endpoint", simulator.baseURL])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(
                Array(lines.prefix(11)) == [
                    "eu-west-1", "123456789012", "euw1-az3", "06:1a:2b:3c:4d:5e", "imdswatch-web",
                    "imdswatch-instance-role", "amazonaws.com", "aws", "10.0.1.23", "on-demand",
                    "r-0fedcba9876543210",
                ])
            #expect(
                try JSONDocument.parse(lines[11]) == .object([("Name", .string("imdswatch-simulator"))]),
                "tags is a JSON object")

            let help = try await ProcessRunner.imdswatch(["get", "--help"])
            for attribute in Self.attributes {
                #expect(help.stdout.contains("  \(attribute)  "), "get --help lists \(attribute)")
            }

            let unknown = try await ProcessRunner.imdswatch([
                "get", "no-such-attribute", "--endpoint", simulator.baseURL,
            ])
            #expect(unknown.status == 64)
            #expect(unknown.stderr.contains("no-such-attribute"))
        }
    }

    @Test func jsonKeepsArgumentOrderWithNullForMissingAndExitsOne() async throws {
        var state = SimulatorState()
        state.spot = SpotNotice(action: .stop, time: Date(timeIntervalSince1970: 1_795_953_600))
        try await withSimulator(state: state) { simulator in
            let arguments = [
                "public-ipv4", "region", "meta-data/nope", "spot-instance-action", "tags", "meta-data/placement/",
            ]
            let outcome = try await ProcessRunner.imdswatch(
                ["get", "--json"] + arguments + ["--endpoint", simulator.baseURL])
            #expect(outcome.status == 1, "a missing one makes the exit status 1")
            let parsed = try JSONDocument.parse(outcome.stdout)
            guard case .object(let members) = parsed else {
                Issue.record("not an object: \(outcome.stdout)")
                return
            }
            #expect(members.map(\.0) == arguments, "every argument, in order")
            #expect(parsed["public-ipv4"] == .null, "a private instance has no public IPv4")
            #expect(parsed["meta-data/nope"] == .null)
            #expect(parsed["region"] == "eu-west-1")
            #expect(parsed["spot-instance-action"]?["action"] == "stop", "a JSON document is embedded")
            #expect(parsed["tags"]?["Name"] == "imdswatch-simulator")
            #expect(parsed["meta-data/placement/"] == "availability-zone\navailability-zone-id\nregion")
            #expect(outcome.stderr.contains("public-ipv4: not found"), "\(outcome.stderr)")
            #expect(outcome.stderr.contains("meta-data/nope: not found"))

            let plain = try await ProcessRunner.imdswatch([
                "get", "public-hostname", "instance-id", "--endpoint", simulator.baseURL,
            ])
            #expect(plain.status == 1)
            #expect(plain.stdout == "i-0123456789abcdef0\n")
            #expect(plain.stderr.contains("public-hostname: not found (meta-data/public-hostname answered 404)"))
        }
    }
}
