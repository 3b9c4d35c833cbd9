import HTTP
import IMDS
import IMDSWatchTestKit
import Retry
import Synchronization
import Testing

/// A metadata read whose connect times out is tried again like a reset or a 5xx (issue 22: one dropped SYN failed a
/// whole `get --all`); a timeout after the connection was made, and the token PUT's, are not.
@Suite struct ConnectTimeoutRetryTests {
    /// A transport answering the token PUT, then failing the first `failures` GETs with `code`, then answering 200.
    private static func transport(failing failures: Int, with code: HTTPError.Code) -> FakeTransport {
        let gets = Mutex(0)
        return FakeTransport { request in
            if request.method == .put { return .success(HTTPResponse(status: 200, body: Array("token".utf8))) }
            let attempt = gets.withLock { count -> Int in
                count += 1
                return count
            }
            if attempt <= failures { return .failure(HTTPError(code: code, detail: "\(code)", url: request.url)) }
            return .success(HTTPResponse(status: 200, body: Array("i-1".utf8)))
        }
    }

    private static func client(_ transport: FakeTransport) -> IMDSClient<ManualClock> {
        IMDSClient(
            endpoint: .ipv4, transport: transport, configuration: .init(retry: RetryPolicy(jitter: { $0 })),
            clock: ManualClock(advancesOnSleep: true))
    }

    @Test func aConnectTimeoutOnAReadIsRetried() async throws {
        let transport = Self.transport(failing: 2, with: .connectTimedOut)
        #expect(try await Self.client(transport).text("meta-data/instance-id") == "i-1")
        #expect(transport.requests.map(\.method) == [.put, .get, .get, .get])
    }

    @Test func aResetConnectionIsRetried() async throws {
        let transport = Self.transport(failing: 1, with: .connectionReset)
        #expect(try await Self.client(transport).text("meta-data/instance-id") == "i-1")
    }

    @Test func retriesAreBoundedAndTheErrorNamesTheConnect() async throws {
        let transport = Self.transport(failing: 10, with: .connectTimedOut)
        let error = await #expect(throws: IMDSError.self) {
            try await Self.client(transport).text("meta-data/instance-id")
        }
        #expect(error?.code == .timedOut)
        #expect(
            error?.message.contains("connecting to IMDS") == true && error?.message.contains("not on EC2") == false,
            "\(String(describing: error))")
        #expect(transport.requests.filter { $0.method == .get }.count == RetryPolicy().maxAttempts)
    }

    @Test func aTimeoutAfterConnectingIsNotRetried() async throws {
        let transport = Self.transport(failing: 1, with: .timedOut)
        await #expect(throws: IMDSError.self) { try await Self.client(transport).text("meta-data/instance-id") }
        #expect(transport.requests.filter { $0.method == .get }.count == 1, "the caller's bound holds")
    }
}
