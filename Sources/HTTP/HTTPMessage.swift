/// An HTTP request as the transports understand it: method, URL, headers, body and limits.
package struct HTTPRequest: Sendable, Equatable {
    /// The methods imdswatch uses.
    package enum Method: String, Sendable {
        case get = "GET"
        case put = "PUT"
        case post = "POST"
    }

    /// The request method.
    package var method: Method
    /// The absolute URL.
    package var url: String
    /// Header fields in the order they are sent.
    package var headers: [HTTPHeader]
    /// The body; `nil` sends none.
    package var body: [UInt8]?
    /// Time allowed to establish the connection.
    package var connectTimeout: Duration
    /// Time allowed for the whole exchange, connection included.
    package var totalTimeout: Duration
    /// The largest response body accepted; a larger one fails with ``HTTPError/Code/responseTooLarge``.
    package var maxResponseBytes: Int
    /// The response header fields to keep, by name (compared without regard to case); `nil` keeps them all.
    /// A poller that reads one header saves turning every other one into strings on every response.
    package var responseHeaders: [String]?

    /// Creates a request.
    /// - Parameters:
    ///   - method: The method.
    ///   - url: The absolute URL.
    ///   - headers: Header fields, in order.
    ///   - body: The body, or `nil`.
    ///   - connectTimeout: Time allowed to connect (default 1 s).
    ///   - totalTimeout: Time allowed for the whole exchange (default 2 s).
    ///   - maxResponseBytes: Response size cap (default 1 MiB).
    ///   - responseHeaders: Response header fields to keep (default: all).
    package init(
        method: Method,
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8]? = nil,
        connectTimeout: Duration = .seconds(1),
        totalTimeout: Duration = .seconds(2),
        maxResponseBytes: Int = 1 << 20,
        responseHeaders: [String]? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxResponseBytes = maxResponseBytes
        self.responseHeaders = responseHeaders
    }
}

/// One header field.
package struct HTTPHeader: Sendable, Equatable {
    /// The field name, as sent or received.
    package var name: String
    /// The field value, without surrounding white space.
    package var value: String

    /// Creates a header field.
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete HTTP response.
package struct HTTPResponse: Sendable, Equatable {
    /// The status code.
    package var status: Int
    /// Header fields of the final response (not of redirects or `100 Continue`).
    package var headers: [HTTPHeader]
    /// The body bytes.
    package var body: [UInt8]
    /// How many new connections the transport opened for this exchange (0 when a kept-alive one was reused).
    package var newConnections: Int

    /// Creates a response.
    package init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = [], newConnections: Int = 0) {
        self.status = status
        self.headers = headers
        self.body = body
        self.newConnections = newConnections
    }

    /// The value of the first header named `name`, compared without regard to case.
    package func header(_ name: String) -> String? {
        headers.first { Self.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// Header names are ASCII: compared byte by byte over the strings' UTF-8 storage, with no lower-cased copies
    /// (this runs on every IMDS read; iterating `zip` over two `UTF8View`s cost about 2,400 instructions a read).
    private static func equalIgnoringASCIICase(_ lhs: String, _ rhs: String) -> Bool {
        var (lhs, rhs) = (lhs, rhs)
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                guard left.count == right.count else { return false }
                for index in left.indices where left[index] != right[index] {
                    let (a, b) = (left[index] | 0x20, right[index] | 0x20)
                    guard a == b, a >= 0x61, a <= 0x7A else { return false }
                }
                return true
            }
        }
    }

    /// The body decoded as UTF-8, with invalid sequences repaired.
    package var bodyText: String {
        String(decoding: body, as: UTF8.self)
    }
}

/// Sends HTTP requests. Implemented over libcurl by ``CurlTransport``; tests inject fakes.
package protocol HTTPTransport: Sendable {
    /// Sends one request and waits for the complete response.
    /// - Parameter request: The request.
    /// - Returns: The response, whatever its status code: a 404 or a 500 is a response, not an error.
    /// - Throws: ``HTTPError`` when no complete response arrived (connection, timeout, size cap, TLS), and
    ///   ``HTTPError/Code/cancelled`` when the calling task is cancelled (``CurlTransport`` then aborts the transfer).
    func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse
}
