import HTTP
import Logging
import Retry

/// An IMDSv2 client: one token shared by every read, refreshed before it expires, never IMDSv1.
///
/// Reads return the body, or `nil` when the path is absent (404). Every other outcome is an ``IMDSError``:
/// an error is never read as "absent".
package actor IMDSClient<ClockType: Clock<Duration>> {
    /// Client settings.
    package struct Configuration: Sendable {
        /// Token lifetime requested from the service, in seconds (1...21600).
        package var tokenTTLSeconds: Int
        /// Time allowed to connect.
        package var connectTimeout: Duration
        /// Time allowed for one request, connection included.
        package var totalTimeout: Duration
        /// Largest body accepted.
        package var maxResponseBytes: Int
        /// Retries for 5xx, broken connections and connect timeouts of metadata reads.
        package var retry: RetryPolicy

        /// Creates settings; the defaults are the contract's.
        package init(
            tokenTTLSeconds: Int = 21_600,
            connectTimeout: Duration = .seconds(1),
            totalTimeout: Duration = .seconds(2),
            maxResponseBytes: Int = 1 << 20,
            retry: RetryPolicy = RetryPolicy()
        ) {
            self.tokenTTLSeconds = tokenTTLSeconds
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.maxResponseBytes = maxResponseBytes
            self.retry = retry
        }
    }

    private struct Token {
        let value: String
        let refreshAt: ClockType.Instant
        /// The remaining TTL the service last echoed for it (it repeats on every read within a second).
        var lastEchoedSeconds: Int?
    }

    /// Counters for benchmarks and status output.
    package struct Statistics: Sendable, Equatable {
        /// Token PUTs sent.
        package var tokenRequests = 0
        /// Metadata GETs sent.
        package var getRequests = 0
        /// New TCP connections the transport reported opening.
        package var connectionsOpened = 0
    }

    /// The endpoint this client reads.
    package nonisolated let endpoint: IMDSEndpoint
    private let transport: any HTTPTransport
    private let configuration: Configuration
    /// Measures token lifetime and paces retries.
    package nonisolated let clock: ClockType
    private let logger: Logger
    private var token: Token?
    private var tokenFetch: Task<Token, any Error>?
    /// The token header of the last GET, kept as one array so that every request with the same token shares it
    /// (and the transport sees the same header list without comparing it field by field).
    private var tokenHeaders: (token: String, headers: [HTTPHeader])?
    /// URLs of the paths read lately (a poller reads the same few paths forever); cleared when it holds 64.
    private var urls: [String: String] = [:]
    /// Counters since creation.
    package private(set) var statistics = Statistics()

    /// Creates a client.
    /// - Parameters:
    ///   - endpoint: Where IMDS is.
    ///   - transport: How requests are sent (``CurlTransport`` in production).
    ///   - configuration: Timeouts, token TTL, retries.
    ///   - clock: Measures token lifetime and paces retries.
    ///   - logger: Receives debug lines about tokens and retries (never the token itself).
    package init(
        endpoint: IMDSEndpoint,
        transport: any HTTPTransport,
        configuration: Configuration = Configuration(),
        clock: ClockType,
        logger: Logger = Logger(label: "imdswatch.imds")
    ) {
        self.endpoint = endpoint
        self.transport = transport
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Reads a path as text.
    /// - Parameter path: Relative to `/latest/`, e.g. `meta-data/instance-id`.
    /// - Returns: The body as UTF-8 text, or `nil` when the path is absent (404).
    /// - Throws: ``IMDSError`` for every other outcome; never for a 404.
    @_specialize(where ClockType == EventLoopClock) // the daemon's clock: reached through `MetadataReader`, generic
    package func text(_ path: String) async throws(IMDSError) -> String? {
        try await bytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Reads a path as bytes.
    /// - Parameter path: Relative to `/latest/`.
    /// - Returns: The body, or `nil` when the path is absent (404).
    /// - Throws: ``IMDSError`` for every other outcome; never for a 404.
    @_specialize(where ClockType == EventLoopClock)
    package func bytes(_ path: String) async throws(IMDSError) -> [UInt8]? {
        var attempt = 0
        var retokened = false
        while true {
            attempt += 1
            let outcome: Result<[UInt8]?, IMDSError>
            do {
                let token = try await currentToken()
                outcome = try await getOnce(path, token: token.value, retokened: &retokened)
            } catch let error as IMDSError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(
                    IMDSError(code: .transport, path: path, endpoint: endpoint.baseURL, message: "\(error)"))
            }
            switch outcome {
            case .success(let body):
                return body
            case .failure(let error) where error.code == .unauthorized && !retokened:
                // A 401 means: drop the token, fetch a new one, retry that GET once.
                retokened = true
                attempt -= 1
                continue
            case .failure(let error) where Self.isRetryable(error) && attempt < configuration.retry.maxAttempts:
                let delay = configuration.retry.delay(beforeRetry: attempt)
                logger.debug(
                    "retrying IMDS read",
                    metadata: ["path": "\(path)", "error": "\(error.code.rawValue)", "attempt": "\(attempt)"])
                try? await clock.sleep(for: delay)
                if Task.isCancelled { throw error }
                continue
            case .failure(let error):
                throw error
            }
        }
    }

    /// Drops the cached token so that the next read fetches a new one.
    package func invalidateToken() {
        token = nil
    }

    private static func isRetryable(_ error: IMDSError) -> Bool {
        // A timeout after the connection was made is not retried: a hung service rarely answers faster a moment
        // later, and the caller's bound (the total timeout) must hold. The poll loop tries again on its next round
        // anyway. A connect timeout is: the request never reached the service (a dropped SYN, a full listen queue
        // when the instance has too many connections open), like a reset connection.
        switch error.code {
        case .serverError, .connectionReset, .unreachable, .transport: true
        case .timedOut: error.underlying?.code == .connectTimedOut
        default: false
        }
    }

    private func getOnce(_ path: String, token: String, retokened: inout Bool) async throws(IMDSError) -> Result<
        [UInt8]?, IMDSError
    > {
        let request = HTTPRequest(
            method: .get,
            url: url(for: path),
            headers: headers(for: token),
            connectTimeout: configuration.connectTimeout,
            totalTimeout: configuration.totalTimeout,
            maxResponseBytes: configuration.maxResponseBytes,
            responseHeaders: keptResponseHeaders
        )
        statistics.getRequests += 1
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            return .failure(transportError(error, path: path, isTokenRequest: false))
        }
        statistics.connectionsOpened += response.newConnections
        switch response.status {
        case 200:
            if let remaining = response.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap(Int.init) {
                noteRemainingTTL(seconds: remaining, of: token)
            }
            return .success(response.body)
        case 404:
            return .success(nil)
        case 401:
            self.token = nil
            return .failure(
                statusError(
                    response.status, path: path,
                    detail: retokened
                        ? "IMDS rejected a freshly issued token (401) for \(path)"
                        : "IMDS token rejected (401) for \(path)"))
        default:
            return .failure(statusError(response.status, path: path, detail: nil))
        }
    }

    private func url(for path: String) -> String {
        if let url = urls[path] { return url }
        if urls.count >= 64 { urls.removeAll(keepingCapacity: true) }
        let url = endpoint.url(for: path)
        urls[path] = url
        return url
    }

    private func headers(for token: String) -> [HTTPHeader] {
        if let tokenHeaders, tokenHeaders.token == token { return tokenHeaders.headers }
        let headers = [HTTPHeader("X-aws-ec2-metadata-token", token)]
        tokenHeaders = (token, headers)
        return headers
    }

    private func noteRemainingTTL(seconds: Int, of value: String) {
        guard var current = token, current.value == value, current.lastEchoedSeconds != seconds else { return }
        current.lastEchoedSeconds = seconds
        let refreshAt = clock.now.advanced(by: usableTokenLifetime(ttlSeconds: seconds))
        token =
            refreshAt < current.refreshAt
            ? Token(value: value, refreshAt: refreshAt, lastEchoedSeconds: seconds) : current
    }

    private func currentToken() async throws -> Token {
        if let token, clock.now < token.refreshAt {
            return token
        }
        if let tokenFetch {
            return try await tokenFetch.value
        }
        // Unstructured: one fetch shared by every caller that needs a token meanwhile, each from its own task (the
        // poll loops, `get`): no task group spans them, and the fetch must go on when the caller that started it
        // is cancelled while others still wait for it. It never outlives the client's own use of it (cleared below).
        let task = Task { try await self.fetchToken() }
        tokenFetch = task
        defer { tokenFetch = nil }
        let fresh = try await task.value
        token = fresh
        return fresh
    }

    private func fetchToken() async throws(IMDSError) -> Token {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await fetchTokenOnce()
            } catch let error where Self.isRetryable(error) && attempt < configuration.retry.maxAttempts {
                try? await clock.sleep(for: configuration.retry.delay(beforeRetry: attempt))
                if Task.isCancelled { throw error }
            }
        }
    }

    private func fetchTokenOnce() async throws(IMDSError) -> Token {
        let ttl = configuration.tokenTTLSeconds
        let request = HTTPRequest(
            method: .put,
            url: endpoint.url(for: "api/token"),
            headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", String(ttl))],
            connectTimeout: configuration.connectTimeout,
            totalTimeout: configuration.totalTimeout,
            maxResponseBytes: 64 * 1024,
            responseHeaders: keptResponseHeaders
        )
        statistics.tokenRequests += 1
        let started = clock.now
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw transportError(error, path: "api/token", isTokenRequest: true)
        }
        statistics.connectionsOpened += response.newConnections
        guard response.status == 200 else {
            throw statusError(response.status, path: "api/token", detail: nil)
        }
        let value = response.bodyText.trimmingWhitespace()
        guard !value.isEmpty else {
            throw IMDSError(
                code: .malformedResponse, path: "api/token", endpoint: endpoint.baseURL, status: 200,
                message: "IMDS at \(endpoint) returned an empty token")
        }
        let granted =
            response.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap(Int.init).map { min($0, ttl) } ?? ttl
        logger.debug("fetched IMDS token", metadata: ["ttl_seconds": "\(granted)"])
        return Token(value: value, refreshAt: started.advanced(by: usableTokenLifetime(ttlSeconds: granted)))
    }

    private func statusError(_ status: Int, path: String, detail: String?) -> IMDSError {
        let base = endpoint.baseURL
        switch status {
        case 401:
            return IMDSError(
                code: .unauthorized, path: path, endpoint: base, status: status,
                message: detail ?? "IMDS at \(base) answered 401 Unauthorized for \(path)")
        case 403:
            return IMDSError(
                code: .forbidden, path: path, endpoint: base, status: status,
                message:
                    "IMDS at \(base) answered 403 Forbidden for \(path): the metadata service is disabled for this instance (enable it with aws ec2 modify-instance-metadata-options --http-endpoint enabled)"
            )
        case 400:
            return IMDSError(
                code: .badRequest, path: path, endpoint: base, status: status,
                message: "IMDS at \(base) answered 400 Bad Request for \(path)")
        case 500...599:
            return IMDSError(
                code: .serverError, path: path, endpoint: base, status: status,
                message: "IMDS at \(base) answered \(status) for \(path)")
        default:
            return IMDSError(
                code: .unexpectedStatus, path: path, endpoint: base, status: status,
                message: "IMDS at \(base) answered unexpected status \(status) for \(path)")
        }
    }

    private func transportError(_ error: HTTPError, path: String, isTokenRequest: Bool) -> IMDSError {
        let base = endpoint.baseURL
        let code: IMDSError.Code
        let message: String
        switch error.code {
        case .connectionRefused, .unreachable, .couldNotResolve:
            code = .unreachable
            message =
                "cannot reach IMDS at \(base) (\(error.code == .connectionRefused ? "connection refused" : error.detail)): not on EC2, or wrong endpoint"
        case .connectTimedOut where isTokenRequest, .timedOut where isTokenRequest:
            code = .tokenTimedOut
            message =
                "IMDS token request to \(base) timed out after \(configuration.totalTimeout): if imdswatch runs in a container or behind an extra network hop, the instance's metadata hop limit is too low (raise it with aws ec2 modify-instance-metadata-options --http-put-response-hop-limit 2); otherwise not on EC2, or wrong endpoint"
        case .connectTimedOut:
            code = .timedOut
            // Only reads reach here, after the token PUT was answered: the endpoint is right, the connection was not.
            message =
                "connecting to IMDS at \(base) timed out for \(path), though it answered the token request (too many connections open to it?)"
        case .timedOut:
            code = .timedOut
            message = "IMDS at \(base) did not answer \(path) within \(configuration.totalTimeout)"
        case .responseTooLarge:
            code = .responseTooLarge
            message = "IMDS response for \(path) from \(base) is larger than \(configuration.maxResponseBytes) bytes"
        case .connectionReset:
            code = .connectionReset
            message = "IMDS at \(base) closed the connection during \(path): \(error.detail)"
        case .invalidURL:
            code = .invalidConfiguration
            message = "invalid IMDS endpoint \(base): \(error.detail)"
        case .cancelled:
            code = .cancelled
            message = "IMDS request for \(path) to \(base) was cancelled (shutting down)"
        case .tls, .other:
            code = .transport
            message = "IMDS request for \(path) to \(base) failed: \(error.detail)"
        }
        return IMDSError(code: code, path: path, endpoint: base, underlying: error, message: message)
    }
}

/// The one response header the client reads (the token's remaining lifetime).
private let keptResponseHeaders = ["X-aws-ec2-metadata-token-ttl-seconds"]

/// How long a token with `ttlSeconds` left is used before a new one is fetched: the TTL less a quarter of it, at most
/// 60 s. (Integer arithmetic: this runs on every response that echoes a new remaining TTL.)
func usableTokenLifetime(ttlSeconds: Int) -> Duration {
    let milliseconds = max(0, ttlSeconds) * 1000
    return .milliseconds(milliseconds - min(60_000, milliseconds / 4))
}
