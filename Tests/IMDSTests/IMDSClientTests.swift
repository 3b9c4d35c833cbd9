import HTTP
import IMDS
import IMDSWatchTestKit
import Retry
import Synchronization
import Testing

/// A scripted IMDS: tokens "t1", "t2", …; GET answers come from `pages`.
private final class ScriptedIMDS: Sendable {
    let tokensIssued = Mutex(0)
    let validToken = Mutex<String?>(nil)
    let ttlEcho: Int
    let pages: @Sendable (String, Int) -> HTTPResponse?

    init(ttlEcho: Int = 21_600, pages: @escaping @Sendable (String, Int) -> HTTPResponse?) {
        self.ttlEcho = ttlEcho
        self.pages = pages
    }

    func respond(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        if request.url.hasSuffix("/latest/api/token") {
            #expect(request.method == .put)
            let token = tokensIssued.withLock { count -> String in
                count += 1
                return "t\(count)"
            }
            validToken.withLock { $0 = token }
            return .success(
                HTTPResponse(
                    status: 200, headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "\(ttlEcho)")],
                    body: Array(token.utf8)))
        }
        let presented = request.headers.first { $0.name == "X-aws-ec2-metadata-token" }?.value
        guard presented != nil, presented == validToken.withLock({ $0 }) else {
            return .success(HTTPResponse(status: 401))
        }
        let path = String(request.url.split(separator: "/latest/", maxSplits: 1).last ?? "")
        if let page = pages(path, tokensIssued.withLock { $0 }) { return .success(page) }
        return .success(HTTPResponse(status: 404, body: Array("<?xml version=\"1.0\"?><html/>".utf8)))
    }
}

private func client(
    _ imds: ScriptedIMDS, clock: ManualClock = ManualClock(advancesOnSleep: true),
    retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(100), jitter: { $0 })
) -> (IMDSClient<ManualClock>, FakeTransport) {
    let transport = FakeTransport { imds.respond($0) }
    let endpoint = try! IMDSEndpoint(url: "http://127.0.0.1:1338")
    return (
        IMDSClient(endpoint: endpoint, transport: transport, configuration: .init(retry: retry), clock: clock),
        transport
    )
}

@Suite struct IMDSClientTests {
    @Test func oneTokenForManyReads() async throws {
        let imds = ScriptedIMDS { path, _ in
            path == "meta-data/instance-id" ? HTTPResponse(status: 200, body: Array("i-1".utf8)) : nil
        }
        let (client, transport) = client(imds)
        for _ in 0..<20 {
            #expect(try await client.text("meta-data/instance-id") == "i-1")
        }
        #expect(imds.tokensIssued.withLock { $0 } == 1)
        #expect(transport.requests.count == 21)
        let put = transport.requests[0]
        #expect(put.headers.contains(HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21600")))
    }

    @Test func absentIsNilNotAnError() async throws {
        let (client, _) = client(ScriptedIMDS { _, _ in nil })
        #expect(try await client.text("meta-data/spot/instance-action") == nil)
    }

    @Test func unauthorizedDropsTokenAndRetriesOnce() async throws {
        let imds = ScriptedIMDS { _, _ in HTTPResponse(status: 200, body: Array("ok".utf8)) }
        let (client, transport) = client(imds)
        #expect(try await client.text("meta-data/ami-id") == "ok")
        imds.validToken.withLock { $0 = "revoked" }
        #expect(try await client.text("meta-data/ami-id") == "ok")
        #expect(imds.tokensIssued.withLock { $0 } == 2)
        // PUT, GET, GET(401), PUT, GET
        #expect(transport.requests.map(\.method) == [.put, .get, .get, .put, .get])
    }

    @Test func persistentUnauthorizedIsAnErrorNotAbsent() async throws {
        let transport = FakeTransport { request in
            request.method == .put
                ? .success(HTTPResponse(status: 200, body: Array("tok".utf8)))
                : .success(HTTPResponse(status: 401))
        }
        let client = IMDSClient(endpoint: .ipv4, transport: transport, clock: ManualClock(advancesOnSleep: true))
        await #expect(throws: IMDSError.self) { try await client.text("meta-data/spot/instance-action") }
        #expect(transport.requests.count == 4, "PUT, GET 401, PUT, GET 401, then give up")
    }

    @Test func tokenRefreshedBeforeExpiry() async throws {
        let clock = ManualClock(advancesOnSleep: true)
        let imds = ScriptedIMDS(ttlEcho: 60) { _, _ in HTTPResponse(status: 200, body: Array("v".utf8)) }
        let (client, _) = client(imds, clock: clock)
        _ = try await client.text("meta-data/a")
        clock.advance(by: .seconds(40))
        _ = try await client.text("meta-data/a")
        #expect(imds.tokensIssued.withLock { $0 } == 1, "still well inside the TTL")
        clock.advance(by: .seconds(10))
        _ = try await client.text("meta-data/a")
        #expect(imds.tokensIssued.withLock { $0 } == 2, "within the refresh margin of a 60 s token")
    }

    @Test func serverErrorsAreRetriedThenReported() async throws {
        let attempts = Mutex(0)
        let imds = ScriptedIMDS { _, _ in
            attempts.withLock { $0 += 1 }
            return HTTPResponse(status: 500)
        }
        let clock = ManualClock(advancesOnSleep: true)
        let (client, _) = client(imds, clock: clock)
        do {
            _ = try await client.text("meta-data/spot/instance-action")
            Issue.record("a 500 must not read as a value or as absent")
        } catch {
            #expect(error.code == .serverError)
            #expect(error.status == 500)
            #expect(error.message.contains("500"))
        }
        #expect(attempts.withLock { $0 } == 3)
        // No jitter (the test's policy waits the whole backoff): 100 ms, then doubled.
        #expect(clock.sleptDurations == [.milliseconds(100), .milliseconds(200)])
    }

    @Test func serverErrorThenSuccessRecovers() async throws {
        let attempts = Mutex(0)
        let imds = ScriptedIMDS { _, _ in
            let n = attempts.withLock { count -> Int in
                count += 1
                return count
            }
            return n == 1 ? HTTPResponse(status: 503) : HTTPResponse(status: 200, body: Array("fine".utf8))
        }
        let (client, _) = client(imds)
        #expect(try await client.text("meta-data/x") == "fine")
    }

    @Test func connectionRefusedNamesTheEndpoint() async throws {
        let transport = FakeTransport { request in
            .failure(HTTPError(code: .connectionRefused, detail: "refused", url: request.url))
        }
        let client = IMDSClient(
            endpoint: try IMDSEndpoint(url: "http://127.0.0.1:9"), transport: transport,
            clock: ManualClock(advancesOnSleep: true))
        do {
            _ = try await client.text("meta-data/instance-id")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .unreachable)
            #expect(error.message.contains("http://127.0.0.1:9"))
            #expect(error.message.contains("not on EC2, or wrong endpoint"))
        }
    }

    @Test func tokenTimeoutMentionsHopLimit() async throws {
        let transport = FakeTransport { request in
            .failure(HTTPError(code: .timedOut, detail: "timeout", url: request.url))
        }
        let client = IMDSClient(endpoint: .ipv4, transport: transport, clock: ManualClock(advancesOnSleep: true))
        do {
            _ = try await client.text("meta-data/instance-id")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .tokenTimedOut)
            #expect(error.message.contains("hop limit"))
        }
        #expect(transport.requests.count == 1, "a timeout is not retried: the caller's bound holds")
    }

    @Test func forbiddenSaysDisabled() async throws {
        let transport = FakeTransport { _ in .success(HTTPResponse(status: 403)) }
        let client = IMDSClient(endpoint: .ipv4, transport: transport, clock: ManualClock(advancesOnSleep: true))
        await #expect(throws: IMDSError.self) { try await client.text("meta-data/instance-id") }
        do { _ = try await client.text("x") } catch { #expect(error.message.contains("disabled")) }
    }

    @Test func neverFallsBackToIMDSv1() async throws {
        let transport = FakeTransport { _ in .success(HTTPResponse(status: 403)) }
        let client = IMDSClient(endpoint: .ipv4, transport: transport, clock: ManualClock(advancesOnSleep: true))
        _ = try? await client.text("meta-data/instance-id")
        #expect(transport.requests.allSatisfy { $0.method == .put }, "no tokenless GET is ever sent")
    }

    @Test func concurrentReadsShareOneTokenFetch() async throws {
        let imds = ScriptedIMDS { _, _ in HTTPResponse(status: 200, body: Array("v".utf8)) }
        let (client, _) = client(imds)
        try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<10 { group.addTask { try await client.text("meta-data/a") } }
            for try await value in group { #expect(value == "v") }
        }
        #expect(imds.tokensIssued.withLock { $0 } == 1)
    }
}

@Suite struct IMDSEndpointTests {
    @Test func defaultsToIPv4() throws {
        #expect(try IMDSEndpoint.resolve(flag: nil, environment: [:]) == .ipv4)
    }

    @Test func modeSelectsIPv6() throws {
        #expect(
            try IMDSEndpoint.resolve(flag: nil, environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"])
                == .ipv6)
        #expect(IMDSEndpoint.ipv6.url(for: "meta-data/") == "http://[fd00:ec2::254]/latest/meta-data/")
    }

    @Test func environmentEndpointBeatsMode() throws {
        let env = [
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338/",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6",
        ]
        #expect(try IMDSEndpoint.resolve(flag: nil, environment: env).baseURL == "http://127.0.0.1:1338")
    }

    @Test func flagBeatsEnvironment() throws {
        let env = ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338"]
        #expect(
            try IMDSEndpoint.resolve(flag: "http://[::1]:9000/latest", environment: env).baseURL == "http://[::1]:9000")
    }

    @Test func disabledByEnvironmentIsAClearError() {
        do {
            _ = try IMDSEndpoint.resolve(flag: "http://127.0.0.1:1", environment: ["AWS_EC2_METADATA_DISABLED": "true"])
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .disabledByEnvironment)
            #expect(error.message.contains("AWS_EC2_METADATA_DISABLED"))
        }
    }

    @Test func rejectsBadURLsAndModes() {
        #expect(throws: IMDSError.self) { try IMDSEndpoint(url: "169.254.169.254") }
        #expect(throws: IMDSError.self) { try IMDSEndpoint(url: "http://host/path") }
        #expect(throws: IMDSError.self) {
            try IMDSEndpoint.resolve(flag: nil, environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"])
        }
    }
}
