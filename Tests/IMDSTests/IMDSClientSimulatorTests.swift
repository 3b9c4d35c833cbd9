import Foundation
import HTTP
import IMDS
import IMDSWatchTestKit
import Retry
import Simulator
import Testing

/// The IMDS client against the simulator over real HTTP on loopback, through libcurl.
@Suite struct IMDSClientSimulatorTests {
    /// A client over libcurl whose token lifetimes and retry pauses run on `clock` (real requests, virtual waits).
    private func client(
        _ simulator: IMDSSimulator, timeout: Duration = .seconds(2), ttl: Int = 21_600,
        clock: ManualClock = ManualClock(advancesOnSleep: true)
    ) -> IMDSClient<ManualClock> {
        IMDSClient(
            endpoint: try! IMDSEndpoint(url: simulator.baseURL),
            transport: CurlTransport(),
            configuration: .init(
                tokenTTLSeconds: ttl, connectTimeout: .seconds(1), totalTimeout: timeout,
                retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20))),
            clock: clock
        )
    }

    @Test func oneTokenAndOneConnectionForManyReads() async throws {
        try await withSimulator { simulator in
            let client = client(simulator)
            for _ in 0..<25 {
                let value = try await client.text("meta-data/instance-id")
                #expect(value == "i-0123456789abcdef0")
            }
            let stats = simulator.statistics
            #expect(stats.tokenRequests == 1)
            #expect(stats.getRequests == 25)
            #expect(stats.connectionsAccepted == 1, "the curl handle keeps the connection alive")
            #expect(await client.statistics.connectionsOpened == 1)
        }
    }

    @Test func absentPathIsNil() async throws {
        try await withSimulator { simulator in
            let value = try await client(simulator).text("meta-data/spot/instance-action")
            #expect(value == nil)
        }
    }

    @Test func invalidatedTokenIsReplacedOnce() async throws {
        try await withSimulator { simulator in
            let client = client(simulator)
            _ = try await client.text("meta-data/instance-id")
            simulator.invalidateTokens()
            let value = try await client.text("meta-data/instance-id")
            #expect(value == "i-0123456789abcdef0")
            #expect(simulator.statistics.tokenRequests == 2)
            #expect(simulator.statistics.responsesByStatus["401"] == 1)
        }
    }

    @Test func expiringTokenIsRefreshedBeforeTheServiceRejectsIt() async throws {
        var state = SimulatorState()
        // The service grants 60 s of the 21 600 asked for: the client uses it for 45 s of its clock (a quarter is kept
        // as margin), then fetches a new one. The client's clock is moved by hand, so a slow machine cannot make the
        // service's real 60 s run out first.
        state.maxTokenTTL = 60
        try await withSimulator(state: state) { simulator in
            let clock = ManualClock(advancesOnSleep: true)
            let client = client(simulator, clock: clock)
            _ = try await client.text("meta-data/instance-id")
            clock.advance(by: .seconds(40))
            _ = try await client.text("meta-data/instance-id")
            #expect(simulator.statistics.tokenRequests == 1, "still inside the granted lifetime less its margin")
            clock.advance(by: .seconds(6))
            _ = try await client.text("meta-data/instance-id")
            #expect(simulator.statistics.tokenRequests == 2)
            #expect(simulator.statistics.responsesByStatus["401"] == nil, "refreshed before expiry, not after a 401")
        }
    }

    @Test func serverErrorsAreRetriedThenReported() async throws {
        try await withSimulator { simulator in
            simulator.inject(.status(500, on: "meta-data/spot/instance-action"))
            let client = client(simulator)
            do {
                _ = try await client.text("meta-data/spot/instance-action")
                Issue.record("a 500 must be an error")
            } catch let error as IMDSError {
                #expect(error.code == .serverError)
            }
            #expect(simulator.statistics.requests(on: "/latest/meta-data/spot/instance-action") == 3)
        }
    }

    @Test func transientServerErrorIsRecovered() async throws {
        try await withSimulator { simulator in
            simulator.inject(.status(503, on: "meta-data/instance-id", count: 1))
            let value = try await client(simulator).text("meta-data/instance-id")
            #expect(value == "i-0123456789abcdef0")
        }
    }

    @Test func slowServerFailsWithinTheTimeout() async throws {
        try await withSimulator { simulator in
            simulator.inject(.delay(5, on: "meta-data/spot/instance-action"))
            let client = client(simulator, timeout: .milliseconds(500))
            _ = try await client.text("meta-data/instance-id")
            let answered = simulator.statistics.responsesByStatus
            do {
                _ = try await client.text("meta-data/spot/instance-action")
                Issue.record("expected a timeout")
            } catch let error as IMDSError {
                #expect(error.code == .timedOut)
            }
            // Given up before the service answered (5 s later, and never once the client hung up), and not retried.
            #expect(simulator.statistics.responsesByStatus == answered)
            #expect(simulator.statistics.requests(on: "/latest/meta-data/spot/instance-action") == 1)
        }
    }

    @Test func oversizedBodyIsAnError() async throws {
        try await withSimulator { simulator in
            simulator.inject(.oversized(2 << 20, on: "meta-data/tags/instance"))
            do {
                _ = try await client(simulator).text("meta-data/tags/instance")
                Issue.record("expected responseTooLarge")
            } catch let error as IMDSError {
                #expect(error.code == .responseTooLarge)
            }
        }
    }

    @Test func ipv6LoopbackEndpointWorks() async throws {
        try await withSimulator(host: "::1") { simulator in
            #expect(simulator.baseURL.hasPrefix("http://[::1]:"))
            let value = try await client(simulator).text("meta-data/instance-id")
            #expect(value == "i-0123456789abcdef0")
        }
    }

    @Test func disabledIMDSIsForbiddenNotAbsent() async throws {
        var state = SimulatorState()
        state.imdsDisabled = true
        try await withSimulator(state: state) { simulator in
            do {
                _ = try await client(simulator).text("meta-data/spot/instance-action")
                Issue.record("expected forbidden")
            } catch let error as IMDSError {
                #expect(error.code == .forbidden)
            }
        }
    }
}
