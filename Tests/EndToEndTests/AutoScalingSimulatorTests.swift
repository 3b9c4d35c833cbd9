import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

/// botocore's own Auto Scaling client against the simulator's endpoint: the simulator accepts what a real client
/// signs, answers in shapes botocore parses, and refuses a wrong secret or session token as the service does.
@Suite struct AutoScalingSimulatorTests {
    @Test func botocoreClientIsAcceptedAndParsesTheAnswers() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            let credentials = try JSONDocument.parse(
                try await client.get("meta-data/iam/security-credentials/imdswatch-instance-role", token: token)
                    .bodyText)
            #expect(credentials["Code"] == "Success" && credentials["Type"] == "AWS-HMAC")
            #expect(credentials["AccessKeyId"]?.stringValue?.hasPrefix("ASIA") == true)
            #expect(credentials["Expiration"]?.stringValue?.hasSuffix("Z") == true)
            #expect(
                try await client.get("meta-data/iam/security-credentials/", token: token).bodyText
                    == "imdswatch-instance-role")
            #expect(
                try JSONDocument.parse(try await client.get("meta-data/iam/info", token: token).bodyText)[
                    "InstanceProfileArn"]?.stringValue?.hasSuffix(":instance-profile/imdswatch-instance-role") == true)

            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("support/autoscaling_botocore.py").path
            let arguments =
                [script, simulator.baseURL + "/autoscaling/"]
                + ["AccessKeyId", "SecretAccessKey", "Token"].map { credentials[$0]?.stringValue ?? "" } + [
                    simulator.state.instanceId
                ]
            let outcome = try await ProcessRunner.run(InteropTests.python, arguments, timeout: .seconds(120))
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let result = try JSONDocument.parse(outcome.stdout)
            #expect(
                result == [
                    "group": "imdswatch-simulator-asg", "heartbeat": "ok", "complete": "ok", "again": "ValidationError",
                    "bad_signature": "SignatureDoesNotMatch", "bad_token": "InvalidClientTokenId",
                ])
        }
    }

    @Test func credentialsRotateAndOldOnesStayValidUntilTheyExpire() async throws {
        try await withSimulator { simulator in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            func accessKey() async throws -> String? {
                try JSONDocument.parse(
                    try await client.get("meta-data/iam/security-credentials/imdswatch-instance-role", token: token)
                        .bodyText)["AccessKeyId"]?.stringValue
            }
            let first = try await accessKey()
            #expect(try await accessKey() == first)
            _ = try await client.control(.post, "/_sim/aws/rotate")
            let second = try await accessKey()
            #expect(second != first)
            let state = try JSONDocument.parse(try await client.control(.get, "/_sim/aws").bodyText)
            #expect(state["access_key_ids"] == .array([first, second].map { .string($0 ?? "") }))
        }
    }
}
