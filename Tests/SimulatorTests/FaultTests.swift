import Foundation
import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("Fault injection")
struct FaultTests {
    private let spotPath = "meta-data/spot/instance-action"

    @Test(arguments: [500, 503])
    func statusFaultAnswersThatStatusForCountRequests(status: Int) async throws {
        try await withSimulator(state: SimulatorState(spot: SpotNotice())) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            simulator.inject(.status(status, on: "meta-data/spot/", count: 2))
            #expect(try await client.get(spotPath, token: token).status == status)
            #expect(try await client.get(spotPath, token: token).status == status)
            #expect(try await client.get(spotPath, token: token).status == 200)
            #expect(try await client.get("meta-data/instance-id", token: token).status == 200)
            #expect(simulator.faults.isEmpty)
        }
    }

    @Test func alwaysFaultStaysUntilCleared() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            simulator.inject(.status(500, on: "meta-data/instance-id"))
            for _ in 0..<3 {
                #expect(try await client.get("meta-data/instance-id", token: token).status == 500)
            }
            simulator.clearFaults()
            #expect(try await client.get("meta-data/instance-id", token: token).status == 200)
        }
    }

    @Test func delayFaultDelaysTheRealAnswer() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            simulator.inject(.delay(0.6, on: "meta-data/instance-id", count: 1))
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await client.get("meta-data/instance-id", token: token)
            #expect(clock.now - start >= .milliseconds(550))
            #expect(response.status == 200)
            #expect(response.bodyText == "i-0123456789abcdef0")
        }
    }

    @Test func hangFaultHitsTheClientTimeout() async throws {
        try await withSimulator { simulator async throws in
            simulator.inject(.hang(on: spotPath))
            // A fresh connection: CurlTransport reads a timeout on a reused one as a connect timeout.
            let client = SimulatorClient(simulator)
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: HTTPError.self) {
                try await client.get(spotPath, token: "any", totalTimeout: .milliseconds(500))
            }
            #expect(error?.code == .timedOut)
            #expect(clock.now - start >= .milliseconds(450))
            #expect(simulator.statistics.requests(on: spotPath) == 1)
        }
    }

    @Test func stopReleasesHungRequests() async throws {
        let simulator = try await IMDSSimulator.start()
        simulator.inject(.hang(on: ""))
        let client = SimulatorClient(simulator)
        let request = Task { () async throws(HTTPError) -> HTTPResponse in
            try await client.get(spotPath, token: "any", totalTimeout: .seconds(60))
        }
        #expect(await eventually { simulator.statistics.requests(on: spotPath) == 1 }, "the request is hanging")
        try await simulator.stop()
        let result = await request.result
        // Released by stop(), not by the client's own 60 s timeout (that would be `.timedOut`).
        let error = #expect(throws: HTTPError.self) { try result.get() }
        #expect(error?.code != .timedOut, "\(String(describing: error))")
    }

    @Test func resetFaultGivesConnectionReset() async throws {
        try await withSimulator { simulator async throws in
            simulator.inject(.reset(on: spotPath))
            let client = SimulatorClient(simulator)
            let error = await #expect(throws: HTTPError.self) {
                try await client.get(spotPath, token: "whatever")
            }
            #expect(error?.code == .connectionReset)
        }
    }

    @Test func malformedFaultAnswers200WithGarbage() async throws {
        try await withSimulator(state: SimulatorState(spot: SpotNotice())) { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            simulator.inject(.malformed(on: spotPath, count: 1))
            let response = try await client.get(spotPath, token: token)
            #expect(response.status == 200)
            #expect(response.body.contains(0xFF))
            #expect((try? JSONSerialization.jsonObject(with: Data(response.body))) == nil)
            #expect(try await client.get(spotPath, token: token).bodyText.hasPrefix("{\"action\": \"terminate\""))
        }
    }

    @Test func oversizedFaultAnswersThatManyBytes() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            simulator.inject(.oversized(100_000, on: "meta-data/instance-id", count: 1))
            let response = try await client.get("meta-data/instance-id", token: token)
            #expect(response.status == 200)
            #expect(response.body.count == 100_000)
            simulator.inject(.oversized(2 << 20, on: "meta-data/instance-id", count: 1))
            let error = await #expect(throws: HTTPError.self) {
                try await client.get("meta-data/instance-id", token: token, maxResponseBytes: 1 << 20)
            }
            #expect(error?.code == .responseTooLarge)
        }
    }

    @Test func faultsApplyToTheTokenPath() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            simulator.inject(.status(503, on: "/latest/api/token", count: 1))
            #expect(try await client.putToken().status == 503)
            #expect(try await client.putToken().status == 200)
            #expect(simulator.statistics.tokenRequests == 2)
        }
    }
}
