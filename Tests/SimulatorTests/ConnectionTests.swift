import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

    @Test func aConnectionLimitHoldsFurtherConnectionsUntilOneCloses() async throws {
        try await withSimulator(limits: ListenerLimits(connectionLimit: 1)) { simulator async throws in
            // A plain TCP connection takes the one place.
            let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #expect(holder >= 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(simulator.port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            #expect(connected == 0)
            #expect(await eventually { simulator.statistics.connectionsAccepted == 1 })

            // The next one completes in the kernel's listen queue and waits there, unanswered.
            let client = SimulatorClient(simulator)
            let request = HTTPRequest(
                method: .put, url: simulator.baseURL + "/latest/api/token",
                headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")],
                body: [], totalTimeout: .seconds(60))
            let waiting = Task { try await client.transport.send(request) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(simulator.statistics.connectionsAccepted == 1, "a second connection was accepted while one is open")
            #expect(simulator.statistics.tokenRequests == 0)

            close(holder)
            let response = try await waiting.value
            #expect(response.status == 200, "answered once the first connection closed")
            #expect(simulator.statistics.connectionsAccepted == 2)
        }
    }
}
