import AWS
import Events
import HTTP
import IMDS
import IMDSWatchTestKit
import Logging
import SigV4
import Synchronization
import Testing

/// The API client on a fake transport: request shape, signing, retries with injected jitter, typed errors,
/// credentials from the environment or the instance profile (refreshed near expiry and after ExpiredToken).
@Suite("Auto Scaling client")
struct AutoScalingClientTests {
    static let target = LifecycleActionTarget(group: "web-asg", hook: "drain", instanceID: "i-0123456789abcdef0")
    static let ok =
        #"<CompleteLifecycleActionResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><CompleteLifecycleActionResult/></CompleteLifecycleActionResponse>"#

    static func error(_ status: Int, _ code: String, _ message: String = "m") -> HTTPResponse {
        HTTPResponse(
            status: status,
            body: Array(
                "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error><RequestId>r</RequestId></ErrorResponse>"
                    .utf8))
    }

    /// A client whose sleeps are recorded (not waited) and whose jitter halves the backoff.
    static func client(
        _ transport: FakeTransport,
        environment: [String: String] = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"],
        metadata: ScriptedMetadata = .absent, now: Int64 = 1_440_938_160, sleeps: DelayLog? = nil
    ) -> AutoScalingClient {
        let provider = CredentialsProvider(environment: environment, metadata: metadata, now: { now })
        return AutoScalingClient(
            configuration: .init(endpoint: "https://autoscaling.eu-west-1.amazonaws.com/", region: "eu-west-1"),
            transport: transport, credentials: provider,
            sleep: { delay in sleeps?.append(delay) }, jitter: { $0 / 2 }, now: { now },
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    @Test func sendsASignedFormPost() async throws {
        let transport = FakeTransport { _ in .success(HTTPResponse(status: 200, body: Array(Self.ok.utf8))) }
        try await Self.client(transport).complete(Self.target, result: .abandon)
        let request = try #require(transport.requests.first)
        #expect(request.method == .post && request.url == "https://autoscaling.eu-west-1.amazonaws.com/")
        #expect(
            String(decoding: request.body ?? [], as: UTF8.self)
                == "Action=CompleteLifecycleAction&Version=2011-01-01&AutoScalingGroupName=web-asg&LifecycleHookName=drain&InstanceId=i-0123456789abcdef0&LifecycleActionResult=ABANDON"
        )
        let headers = Dictionary(request.headers.map { ($0.name, $0.value) }) { a, _ in a }
        #expect(headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8")
        #expect(headers["X-Amz-Date"] == "20150830T123600Z")
        #expect(headers["X-Amz-Security-Token"] == nil)
        #expect(
            headers["Authorization"]?.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/autoscaling/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="
            ) == true)
    }

    @Test func retriesThrottlingAndServerErrorsWithJitteredBackoff() async throws {
        let answers = Mutex([
            Self.error(400, "Throttling"), Self.error(503, "ServiceUnavailable"),
            HTTPResponse(status: 200, body: Array(Self.ok.utf8)),
        ])
        let transport = FakeTransport { _ in .success(answers.withLock { $0.removeFirst() }) }
        let sleeps = DelayLog()
        try await Self.client(transport, sleeps: sleeps).complete(Self.target, result: .continue)
        #expect(transport.requests.count == 3)
        #expect(sleeps.all == [.milliseconds(250), .milliseconds(500)])
    }

    @Test func givesUpAfterMaxAttempts() async {
        let transport = FakeTransport { _ in .success(Self.error(400, "Throttling")) }
        let sleeps = DelayLog()
        await #expect(throws: AutoScalingError.self) {
            try await Self.client(transport, sleeps: sleeps).recordHeartbeat(Self.target)
        }
        #expect(transport.requests.count == 5)
        #expect(sleeps.all == [.milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2)])
    }

    @Test func accessDeniedAndNoActiveActionAreNotRetried() async {
        for (response, code) in [
            (Self.error(403, "AccessDenied"), AutoScalingError.Code.accessDenied),
            (
                Self.error(400, "ValidationError", "No active Lifecycle Action found with instance ID i-1"),
                .noActiveLifecycleAction
            ),
        ] {
            let transport = FakeTransport { _ in .success(response) }
            do {
                try await Self.client(transport).recordHeartbeat(Self.target)
                Issue.record("expected \(code)")
            } catch {
                #expect(error.code == code)
                if code == .accessDenied {
                    #expect(error.description.contains("autoscaling:RecordLifecycleActionHeartbeat"))
                }
            }
            #expect(transport.requests.count == 1)
        }
    }

    @Test func readsTheGroupFromDescribeAutoScalingInstances() async throws {
        let body =
            "<DescribeAutoScalingInstancesResponse><DescribeAutoScalingInstancesResult><AutoScalingInstances><member><InstanceId>i-1</InstanceId><AutoScalingGroupName>web &amp; api</AutoScalingGroupName></member></AutoScalingInstances></DescribeAutoScalingInstancesResult></DescribeAutoScalingInstancesResponse>"
        let transport = FakeTransport { _ in .success(HTTPResponse(status: 200, body: Array(body.utf8))) }
        #expect(try await Self.client(transport).groupName(ofInstance: "i-1") == "web & api")
        let sent = String(decoding: transport.requests.first.flatMap(\.body) ?? [], as: UTF8.self)
        #expect(sent.hasSuffix("InstanceIds.member.1=i-1"))
    }

    @Test func instanceProfileCredentialsAreCachedRefreshedNearExpiryAndAfterExpiredToken() async throws {
        let fetches = Mutex(0)
        let clock = Mutex<Int64>(1_800_000_000)
        let metadata = ScriptedMetadata { path throws(IMDSError) in
            if path == "meta-data/iam/security-credentials/" { return "role-a\n" }
            guard path == "meta-data/iam/security-credentials/role-a" else { return nil }
            let n = fetches.withLock {
                $0 += 1
                return $0
            }
            let expiration = Timestamp.rfc3339(seconds: clock.withLock { $0 } + 3600)
            return
                #"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA\#(n)","SecretAccessKey":"s","Token":"t\#(n)","Expiration":"\#(expiration)"}"#
        }
        let provider = CredentialsProvider(environment: [:], metadata: metadata, now: { clock.withLock { $0 } })
        #expect(
            try await provider.credentials(action: "x")
                == AWSCredentials(accessKeyID: "ASIA1", secretAccessKey: "s", sessionToken: "t1"))
        clock.withLock { $0 += 3600 - CredentialsProvider.refreshMargin - 1 }
        #expect(try await provider.credentials(action: "x").accessKeyID == "ASIA1")
        clock.withLock { $0 += 1 }
        #expect(try await provider.credentials(action: "x").accessKeyID == "ASIA2")
        await provider.invalidate()
        #expect(try await provider.credentials(action: "x").accessKeyID == "ASIA3")
        #expect(await provider.source() == .instanceProfile(role: "role-a"))

        // ExpiredToken makes the client fetch new credentials before retrying.
        let answers = Mutex([Self.error(403, "ExpiredToken"), HTTPResponse(status: 200, body: Array(Self.ok.utf8))])
        let transport = FakeTransport { _ in .success(answers.withLock { $0.removeFirst() }) }
        try await Self.client(transport, environment: [:], metadata: metadata, now: 1_800_000_000).complete(
            Self.target, result: .continue)
        let tokens = transport.requests.map { $0.headers.first { $0.name == "X-Amz-Security-Token" }?.value }
        #expect(tokens.count == 2 && tokens[0] != tokens[1])
    }

    @Test func noInstanceProfileIsAClearError() async {
        let provider = CredentialsProvider(environment: [:], metadata: ScriptedMetadata.absent, now: { 0 })
        do {
            _ = try await provider.credentials(action: "CompleteLifecycleAction")
            Issue.record("expected noCredentials")
        } catch {
            #expect(error.code == .noCredentials)
            #expect(
                error.description.contains("AWS_ACCESS_KEY_ID") && error.description.contains("no instance profile"))
        }
        #expect(await provider.source() == .none)
    }

    @Test func endpointAndRegionPrecedence() {
        let env = ["AWS_ENDPOINT_URL_AUTO_SCALING": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2/x/"]
        #expect(
            AutoScalingEndpoint.resolve(configured: "http://c:3/asg/", environment: env, region: "eu-west-1")
                == "http://c:3/asg/")
        #expect(AutoScalingEndpoint.resolve(configured: nil, environment: env, region: "eu-west-1") == "http://a:1/")
        #expect(
            AutoScalingEndpoint.resolve(
                configured: nil, environment: ["AWS_ENDPOINT_URL": "http://b:2/x/"], region: "eu-west-1")
                == "http://b:2/x/")
        #expect(
            AutoScalingEndpoint.resolve(configured: nil, environment: [:], region: "eu-west-1")
                == "https://autoscaling.eu-west-1.amazonaws.com/")
        #expect(
            AutoScalingEndpoint.region(environment: ["AWS_REGION": "us-east-2"], identityRegion: "eu-west-1")
                == "us-east-2")
        #expect(AutoScalingEndpoint.region(environment: [:], identityRegion: "eu-west-1") == "eu-west-1")
        #expect(AutoScalingEndpoint.region(environment: [:], identityRegion: "") == nil)
    }
}

/// Delays a client was asked to wait, in order.
final class DelayLog: Sendable {
    private let delays = Mutex<[Duration]>([])
    func append(_ delay: Duration) { delays.withLock { $0.append(delay) } }
    var all: [Duration] { delays.withLock { $0 } }
}
