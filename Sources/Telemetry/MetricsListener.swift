import Durability
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Serves `GET /metrics` (the Prometheus text format) on one address; every other path is a 404, every other
/// method a 405. Runs in the daemon's `ServiceGroup`: binds when ``run()`` starts, closes at graceful shutdown.
///
/// One event-loop thread of its own, blocked in `epoll_wait` while nobody scrapes. Bounded by
/// ``MetricsListenerLimits`` (connections open at once, time for a request, idle time), so that no client holds
/// more than a few of the daemon's descriptors or holds them for long.
package struct MetricsListener: Service {
    private let host: String
    private let port: Int
    private let exposition: MetricsExposition
    private let limits: MetricsListenerLimits
    private let logger: Logger
    private let onBound: @Sendable (Int) -> Void

    /// Creates a listener; binds nothing until ``run()``.
    /// - Parameters:
    ///   - host: The address to bind (`127.0.0.1`, `::1`, `0.0.0.0`, …); a non-loopback one is logged at notice.
    ///   - port: The port; 0 picks a free one (logged, and passed to `onBound`).
    ///   - exposition: What `/metrics` serves.
    ///   - limits: The bounds on clients (``MetricsListenerLimits/daemon`` by default).
    ///   - logger: For the bound address, refused requests and refused connections.
    ///   - onBound: Called with the bound port once listening.
    package init(
        host: String, port: Int, exposition: MetricsExposition, limits: MetricsListenerLimits = .daemon,
        logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.exposition = exposition
        self.limits = limits
        self.logger = logger
        self.onBound = onBound
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    package static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "0:0:0:0:0:0:0:1"
    }

    /// Binds, serves until graceful shutdown or cancellation, then closes the socket and its thread.
    /// - Throws: NIO's error when the address cannot be bound (in use, not an address of this machine); the
    ///   `ServiceGroup` then stops the daemon with that error.
    package func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (exposition, limits, logger) = (exposition, limits, logger)
        let connections = MetricsConnectionCount()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsConnectionCap(limit: limits.maxConnections, count: connections, logger: logger)
                    )
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(IdleStateHandler(allTimeout: TimeAmount(limits.idleTimeout)))
                    try operations.configureHTTPServerPipeline(withErrorHandling: true)
                    try operations.addHandler(MetricsRequestDeadline(timeout: limits.requestTimeout))
                    try operations.addHandler(MetricsHTTPHandler(exposition: exposition))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            let cause = (error as? IOError).map { SystemCall.describe(errno: $0.errnoCode) } ?? "\(error)"
            let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            throw MetricsListenerError(message: "cannot listen for metrics on \(address): \(cause)")
        }
        let bound = channel.localAddress?.port ?? port
        let address = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
        if Self.isLoopback(host) {
            logger.info("metrics listening on http://\(address)/metrics")
        } else {
            logger.notice(
                "metrics listening on http://\(address)/metrics, a non-loopback address: anyone who can reach it can read the metrics"
            )
        }
        onBound(bound)
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await channel.closeFuture.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        try? await group.shutdownGracefully()
    }
}

/// The listener could not start.
package struct MetricsListenerError: Error, Sendable, CustomStringConvertible {
    /// One line naming the address and the cause.
    package var message: String
    package var description: String { message }
}

/// Answers one connection's requests; runs on the connection's event loop.
final class MetricsHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: MetricsExposition
    private var head: HTTPRequestHead?

    init(exposition: MetricsExposition) {
        self.exposition = exposition
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path =
            head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            write(
                status: .notFound, body: Array("not found: only /metrics is served\n".utf8), head: head,
                context: context)
            return
        }
        guard head.method == .GET || head.method == .HEAD else {
            write(
                status: .methodNotAllowed, body: Array("only GET /metrics\n".utf8), head: head, context: context,
                extraHeaders: [("Allow", "GET, HEAD")])
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let exposition = exposition
        // Unstructured: NIO calls this handler synchronously on the channel's event loop, outside any task, so no
        // task group can own the render; the task lives for one render and writes the response back on the loop.
        Task {
            let body = await exposition.render()
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.write(
                    status: .ok, body: body, head: head, context: context,
                    contentType: MetricsExposition.contentType)
            }
        }
    }

    private func write(
        status: HTTPResponseStatus, body: [UInt8], head: HTTPRequestHead, context: ChannelHandlerContext,
        contentType: String = "text/plain; charset=utf-8", extraHeaders: [(String, String)] = []
    ) {
        var headers = HTTPHeaders([("Content-Type", contentType), ("Content-Length", "\(body.count)")] + extraHeaders)
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
