import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("Connections and listeners")
struct ConnectionTests {
    @Test func keepAliveReusesOneConnection() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            for _ in 0..<25 {
                let response = try await client.get("meta-data/spot/instance-action", token: token)
                #expect(response.status == 404)
            }
            #expect(try await client.get("meta-data/instance-id", token: token).newConnections == 0)
            let statistics = simulator.statistics
            #expect(statistics.connectionsAccepted == 1)
            #expect(statistics.getRequests == 26)
            #expect(statistics.requests(on: "meta-data/spot/instance-action") == 25)
        }
    }

    @Test func separateClientsOpenSeparateConnections() async throws {
        try await withSimulator { simulator async throws in
            _ = try await SimulatorClient(simulator).token()
            _ = try await SimulatorClient(simulator).token()
            #expect(simulator.statistics.connectionsAccepted == 2)
        }
    }

    @Test func listensOnIPv6Loopback() async throws {
        try await withSimulator(host: "::1") { simulator async throws in
            #expect(simulator.baseURL == "http://[::1]:\(simulator.port)")
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/instance-id", token: token).bodyText == "i-0123456789abcdef0")
        }
    }

    @Test func stopClosesTheListener() async throws {
        let simulator = try await IMDSSimulator.start()
        #expect(simulator.port > 0)
        #expect(simulator.baseURL == "http://127.0.0.1:\(simulator.port)")
        let client = SimulatorClient(simulator)
        try await simulator.stop()
        try await simulator.stop()
        let error = await #expect(throws: HTTPError.self) { try await client.putToken() }
        #expect(error?.code == .connectionRefused)
    }
}
