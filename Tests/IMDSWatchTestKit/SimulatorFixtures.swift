import HTTP
import Simulator

/// Runs `body` against a fresh simulator on loopback and stops it afterwards, whatever `body` does.
/// - Parameters:
///   - host: The address to bind (`127.0.0.1` or `::1`).
///   - state: The initial state.
///   - limits: The listen backlog and connection limit.
///   - body: The test.
/// - Returns: What `body` returns.
/// - Throws: What `start`, `body` or `stop` throws.
package func withSimulator<T: Sendable>(
    host: String = "127.0.0.1",
    state: SimulatorState = SimulatorState(),
    limits: ListenerLimits = ListenerLimits(),
    _ body: (IMDSSimulator) async throws -> T
) async throws -> T {
    let simulator = try await IMDSSimulator.start(host: host, state: state, limits: limits)
    do {
        let result = try await body(simulator)
        try await simulator.stop()
        return result
    } catch {
        try? await simulator.stop()
        throw error
    }
}

/// A raw HTTP client for a simulator: token PUTs, GETs and control calls over one kept-alive libcurl handle.
package struct SimulatorClient: Sendable {
    /// The simulator's base URL.
    package let baseURL: String
    /// The transport; one connection is reused across calls.
    package let transport: CurlTransport

    /// Creates a client with its own transport.
    /// - Parameter simulator: The simulator to talk to.
    package init(_ simulator: IMDSSimulator) {
        baseURL = simulator.baseURL
        transport = CurlTransport()
    }

    /// `PUT /latest/api/token` (or `path`) with a TTL header and any extra headers.
    /// - Throws: ``HTTPError`` when no response arrived.
    package func putToken(ttl: String? = "21600", path: String = "/latest/api/token", headers: [HTTPHeader] = [])
        async throws(HTTPError) -> HTTPResponse
    {
        var all = headers
        if let ttl { all.append(HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", ttl)) }
        return try await transport.send(HTTPRequest(method: .put, url: baseURL + path, headers: all, body: []))
    }

    /// A fresh token (fails the test through the thrown error when the PUT is not a 200).
    /// - Throws: ``HTTPError``, or ``SimulatorClientError`` when the status is not 200.
    package func token(ttl: Int = 21_600) async throws -> String {
        let response = try await putToken(ttl: String(ttl))
        guard response.status == 200 else {
            throw SimulatorClientError(status: response.status, body: response.bodyText)
        }
        return response.bodyText
    }

    /// `GET /latest/PATH` (a path starting with `/` is used as is) with an optional token.
    /// - Throws: ``HTTPError`` when no response arrived.
    package func get(
        _ path: String, token: String?, totalTimeout: Duration = .seconds(2), maxResponseBytes: Int = 1 << 20
    ) async throws(HTTPError) -> HTTPResponse {
        let url = baseURL + (path.hasPrefix("/") ? path : "/latest/" + path)
        let headers = token.map { [HTTPHeader("X-aws-ec2-metadata-token", $0)] } ?? []
        return try await transport.send(
            HTTPRequest(
                method: .get, url: url, headers: headers, totalTimeout: totalTimeout, maxResponseBytes: maxResponseBytes
            ))
    }

    /// A control-API call (`/_sim/...`) with an optional JSON body.
    /// - Throws: ``HTTPError`` when no response arrived.
    package func control(_ method: HTTPRequest.Method, _ path: String, json: String? = nil) async throws(HTTPError)
        -> HTTPResponse
    {
        let headers = json == nil ? [] : [HTTPHeader("Content-Type", "application/json")]
        let body = json.map { Array($0.utf8) } ?? (method == .get ? nil : [])
        return try await transport.send(HTTPRequest(method: method, url: baseURL + path, headers: headers, body: body))
    }
}

/// A token PUT that did not answer 200.
package struct SimulatorClientError: Error, Sendable, Equatable {
    /// The status received.
    package var status: Int
    /// The body received.
    package var body: String
}
