import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// How much of the daemon the `/metrics` listener's clients may hold, as production HTTP servers bound theirs
/// (nginx's `worker_connections`, `client_header_timeout`, `keepalive_timeout`): the listener serves any local
/// user, and a descriptor a client holds is one the daemon's own work (IMDS, hooks, state, webhooks) cannot use.
package struct MetricsListenerLimits: Sendable, Equatable {
    /// Connections open at once; one more is closed as soon as it is accepted.
    package var maxConnections: Int
    /// Time a connection has to deliver a whole request, counted from its opening or from the end of the previous
    /// response (a kept-alive connection that sends nothing more is closed after it too).
    package var requestTimeout: Duration
    /// Time a connection may go without a byte read or written (a client that stops reading its response).
    package var idleTimeout: Duration

    /// The daemon's bounds: 16 connections, 10 s for a request, 30 s idle.
    package static let daemon = MetricsListenerLimits(
        maxConnections: 16, requestTimeout: .seconds(10), idleTimeout: .seconds(30))

    /// Creates bounds.
    /// - Parameters:
    ///   - maxConnections: Connections open at once (at least 1).
    ///   - requestTimeout: Time for a whole request from the opening or the previous response.
    ///   - idleTimeout: Time without a byte read or written.
    package init(maxConnections: Int, requestTimeout: Duration, idleTimeout: Duration) {
        self.maxConnections = max(1, maxConnections)
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }
}

/// The listener's open connections, shared by the accepting channel and the connections' close callbacks.
final class MetricsConnectionCount: Sendable {
    private let count = Atomic<Int>(0)

    /// Connections open now.
    var current: Int { count.load(ordering: .relaxed) }

    /// Takes a slot when one is free.
    /// - Returns: Whether the connection may stay.
    func acquire(limit: Int) -> Bool {
        var current = count.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = count.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Gives a slot back.
    func release() {
        count.subtract(1, ordering: .relaxed)
    }
}

/// On the accepting channel: passes each accepted connection on while fewer than the cap are open, and closes it at
/// once otherwise. The first refusal of each saturation is logged at warning, with the cap.
final class MetricsConnectionCap: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limit: Int
    private let count: MetricsConnectionCount
    private let logger: Logger
    private var saturated = false

    init(limit: Int, count: MetricsConnectionCount, logger: Logger) {
        self.limit = limit
        self.count = count
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        guard count.acquire(limit: limit) else {
            if !saturated {
                saturated = true
                logger.warning(
                    "metrics listener has \(limit) connections open, its limit: closing new ones until one ends")
            }
            connection.close(promise: nil)
            return
        }
        saturated = false
        let count = count
        connection.closeFuture.whenComplete { _ in count.release() }
        context.fireChannelRead(data)
    }
}

/// On each connection, between the HTTP codec and the responder: closes the connection when a whole request has not
/// arrived within ``MetricsListenerLimits/requestTimeout`` of its opening or of the previous response's end, and when
/// nothing was read or written for ``MetricsListenerLimits/idleTimeout`` (told by NIO's `IdleStateHandler`).
final class MetricsRequestDeadline: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) { disarm() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.write(data).assumeIsolated().whenComplete { result in
            let (handler, context) = loopBound.value
            if case .success = result, context.channel.isActive { handler.arm(context: context) }
            promise?.completeWith(result)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func arm(context: ChannelHandlerContext) {
        disarm()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
