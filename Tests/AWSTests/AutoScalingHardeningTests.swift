import AWS
import Events
import HTTP
import IMDS
import IMDSWatchTestKit
import Logging
import SigV4
import Synchronization
import Testing

/// What a hostile or broken server, or broken credentials, can do to the Auto Scaling client's log lines and
/// requests: nothing said twice, no server text longer than a line's worth, no credential echoed, no header injection.
@Suite("Auto Scaling hardening")
struct AutoScalingHardeningTests {
    static let target = LifecycleActionTarget(group: "web-asg", hook: "drain", instanceID: "i-1")

    static func client(_ transport: FakeTransport, environment: [String: String]) -> AutoScalingClient {
        AutoScalingClient(
            configuration: .init(endpoint: "https://autoscaling.eu-west-1.amazonaws.com/", region: "eu-west-1"),
            transport: transport,
            credentials: CredentialsProvider(
                environment: environment, metadata: ScriptedMetadata.absent, now: { 1_800_000_000 }),
            sleep: { _ in }, jitter: { $0 }, now: { 1_800_000_000 },
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    @Test func aServerErrorWithoutADocumentIsSaidOnce() {
        let error = AutoScalingError.fromAnswer(status: 500, body: [], action: "CompleteLifecycleAction")
        #expect(error.description == "CompleteLifecycleAction failed: HTTP 500 without an error document")
        #expect(error.code == .serverError)
    }

    @Test func anEchoedCanonicalRequestLosesTheTokenAndAHugeMessageIsCut() async throws {
        let token = "IQoJb3JpZ2luX2VjEXAMPLE/session+token=="
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let transport = FakeTransport { request in
            let tokenHeader = request.headers.first { $0.name == "X-Amz-Security-Token" }?.value ?? ""
            let echo =
                "The Canonical String for this request should have been 'POST\n/\n\nx-amz-security-token:\(tokenHeader)\n' and the key \(secret) "
                + String(repeating: "y", count: 900_000)
            return .success(
                HTTPResponse(
                    status: 403,
                    body: Array(
                        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>\(echo)</Message></Error></ErrorResponse>"
                            .utf8)))
        }
        let environment = [
            "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
        ]
        do {
            try await Self.client(transport, environment: environment).complete(Self.target, result: .continue)
            Issue.record("expected SignatureDoesNotMatch")
        } catch {
            let text = error.description
            #expect(!text.contains(token) && !text.contains(secret))
            #expect(text.contains("x-amz-security-token:***"))
            #expect(text.count < 1000)
            #expect(!text.contains("\n"))
            #expect(text.hasSuffix("bytes in all)"))
            #expect(error.isCredentialsProblem)
        }
    }

    @Test func serverTextIsScrubbedInEveryFormAndCut() {
        let secret = "abc/def+ghi="
        #expect(ServerText.excerpt("a abc/def+ghi= b abc%2Fdef%2Bghi%3D c", secrets: [secret]) == "a *** b *** c")
        #expect(ServerText.excerpt("line\r\nnext\u{7}!", secrets: []) == "line next !")
        let long = ServerText.excerpt(Array(repeating: UInt8(ascii: "z"), count: 900_000))
        #expect(
            long.hasPrefix(String(repeating: "z", count: ServerText.defaultLimit))
                && long.hasSuffix("… (900000 bytes in all)"))
    }

    @Test func aLineBreakInAnyCredentialIsRefusedAndNeverSent() async {
        for (name, value) in [
            ("AWS_SECRET_ACCESS_KEY", "secret\r\nX-Injected: 1"), ("AWS_SESSION_TOKEN", "token\nX-Injected: 1"),
            ("AWS_ACCESS_KEY_ID", "AKID\r"),
        ] {
            var environment = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"]
            environment[name] = value
            let transport = FakeTransport { _ in .success(HTTPResponse(status: 200)) }
            do {
                try await Self.client(transport, environment: environment).recordHeartbeat(Self.target)
                Issue.record("expected a refusal for \(name)")
            } catch {
                #expect(error.code == .noCredentials)
                #expect(error.description.contains(name) && error.description.contains("line break"))
            }
            #expect(transport.requests.isEmpty, "\(name)")
        }
        // The same for the instance profile's values.
        let metadata = ScriptedMetadata { path throws(IMDSError) in
            path.hasSuffix("/")
                ? "role-a"
                : #"{"Code":"Success","AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t\r\nX: 1","Expiration":"2030-01-01T00:00:00Z"}"#
        }
        let provider = CredentialsProvider(environment: [:], metadata: metadata, now: { 1_800_000_000 })
        await #expect(throws: AutoScalingError.self) { _ = try await provider.credentials(action: "x") }
    }

    @Test func expiredInstanceProfileCredentialsAreUsedWithOneWarning() async throws {
        let warnings = Locked<[String]>([])
        let metadata = ScriptedMetadata { path throws(IMDSError) in
            path.hasSuffix("/")
                ? "role-a"
                : #"{"Code":"Success","AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t","Expiration":"2020-01-01T00:00:00Z"}"#
        }
        let provider = CredentialsProvider(
            environment: [:], metadata: metadata, now: { 1_800_000_000 },
            warn: { line in warnings.update { $0.append(line) } })
        for _ in 0..<3 { #expect(try await provider.credentials(action: "x").accessKeyID == "ASIA") }
        #expect(warnings.value.count == 1)
        #expect(warnings.value.first?.contains("expired at 2020-01-01T00:00:00Z") == true)
    }
}
