import HTTP

/// Why an IMDS read failed. An error is never the same as "absent": absence is a `nil` value, not an error.
package struct IMDSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    package enum Code: String, Sendable, Equatable {
        /// `AWS_EC2_METADATA_DISABLED=true`: the user asked for no IMDS access.
        case disabledByEnvironment
        /// Nothing listens at the endpoint: not on EC2, or the wrong endpoint.
        case unreachable
        /// The token PUT got no answer in time while the host is routable: the hop-limit symptom.
        case tokenTimedOut
        /// A request (not the token PUT) timed out.
        case timedOut
        /// 403: IMDS is turned off for this instance, or the request was refused.
        case forbidden
        /// 401 even with a fresh token.
        case unauthorized
        /// 400: the service rejected the request (for the token PUT: a bad TTL).
        case badRequest
        /// A 5xx status, after retries.
        case serverError
        /// Any other unexpected status.
        case unexpectedStatus
        /// The response exceeded the size cap.
        case responseTooLarge
        /// The connection broke before a complete response.
        case connectionReset
        /// The body could not be decoded as the path's format.
        case malformedResponse
        /// The endpoint URL or the environment is invalid.
        case invalidConfiguration
        /// The read was cancelled (the daemon is shutting down).
        case cancelled
        /// Any other transport failure.
        case transport
    }

    /// The kind of failure.
    package var code: Code
    /// The path (relative to `/latest/`) or operation that failed.
    package var path: String
    /// The endpoint base URL.
    package var endpoint: String
    /// The HTTP status, when one arrived.
    package var status: Int?
    /// The transport error underneath, when there was one.
    package var underlying: HTTPError?
    /// A one-line explanation for operators.
    package var message: String

    /// Creates an error; the endpoint is kept redacted (``RedactedURL``).
    package init(
        code: Code, path: String, endpoint: String, status: Int? = nil, underlying: HTTPError? = nil, message: String
    ) {
        self.code = code
        self.path = path
        self.endpoint = RedactedURL.redact(endpoint)
        self.status = status
        self.underlying = underlying
        self.message = message
    }

    /// True for failures a later attempt may not repeat (5xx, timeouts, broken connections).
    package var isTransient: Bool {
        switch code {
        case .serverError, .timedOut, .tokenTimedOut, .connectionReset, .unreachable, .transport: true
        default: false
        }
    }

    package var description: String { message }
}
