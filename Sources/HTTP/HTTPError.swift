/// Why an HTTP exchange produced no usable response.
package struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    package enum Code: String, Sendable, Equatable {
        /// The peer refused the connection (nothing listens there).
        case connectionRefused
        /// No route to the host, or the network is unreachable.
        case unreachable
        /// The connection could not be established within the connect timeout.
        case connectTimedOut
        /// The connection was established but the response did not complete within the total timeout.
        case timedOut
        /// The peer closed or reset the connection before a complete response.
        case connectionReset
        /// The response body exceeded the request's size cap.
        case responseTooLarge
        /// The host name could not be resolved.
        case couldNotResolve
        /// TLS failed: certificate verification or handshake.
        case tls
        /// The URL is malformed or uses an unsupported scheme.
        case invalidURL
        /// The waiting task was cancelled (shutdown); the transfer was aborted.
        case cancelled
        /// Anything else libcurl reported.
        case other
    }

    /// The kind of failure.
    package var code: Code
    /// libcurl's own code, when the failure came from libcurl.
    package var curlCode: Int32?
    /// A short human-readable detail (libcurl's error text), never containing credentials.
    package var detail: String
    /// The request URL with credentials removed.
    package var url: String

    /// Creates an error.
    package init(code: Code, curlCode: Int32? = nil, detail: String, url: String) {
        self.code = code
        self.curlCode = curlCode
        self.detail = detail
        self.url = RedactedURL.redact(url)
    }

    package var description: String {
        "\(code.rawValue) (\(url)): \(detail)"
    }
}
