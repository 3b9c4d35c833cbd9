internal import CCurl

/// An ``HTTPTransport`` over libcurl, with a ``CurlEventLoop`` (one thread and one multi handle) of its own.
///
/// Concurrent requests run side by side, so that one slow request never delays another; connections are kept alive
/// in the multi handle's cache and reused by later requests to the same host. A cancelled task aborts its transfer
/// at once. The easy handles are reused with their options set once.
package final class CurlTransport: HTTPTransport, @unchecked Sendable {
    /// How requests reach the network.
    package struct Options: Sendable {
        /// How a proxy is chosen.
        package enum Proxy: Sendable, Equatable {
            /// Never use a proxy, whatever the environment says (IMDS is link-local).
            case never
            /// libcurl's usual environment variables (`http_proxy`, `https_proxy`, `no_proxy`).
            case environment
            /// This proxy URL.
            case url(String)
        }

        /// The proxy policy.
        package var proxy: Proxy
        /// A CA bundle file for TLS verification; `nil` uses the system's. Verification is always on.
        package var caBundlePath: String?
        /// The `User-Agent` header; `nil` sends none.
        package var userAgent: String?
        /// Idle easy handles kept for reuse (connections are cached by the loop, not the handles).
        package var maxIdleHandles: Int

        /// Creates options.
        package init(
            proxy: Proxy = .never, caBundlePath: String? = nil, userAgent: String? = nil, maxIdleHandles: Int = 4
        ) {
            self.proxy = proxy
            self.caBundlePath = caBundlePath
            self.userAgent = userAgent
            self.maxIdleHandles = maxIdleHandles
        }
    }

    /// The thread that runs this transport's transfers; usable as the executor of the code that polls.
    package let eventLoop: CurlEventLoop

    /// Creates a transport with an event loop of its own.
    /// - Parameters:
    ///   - options: Proxy, TLS and user-agent settings.
    ///   - name: The loop thread's name.
    package init(options: Options = Options(), name: String = "imdswatch-curl") {
        eventLoop = CurlEventLoop(options: options, name: name)
    }

    deinit {
        eventLoop.requestStop()
    }

    package func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        try await eventLoop.perform(request).get()
    }
}
