import NIOCore

/// How many connections the simulator takes, to rehearse a service that limits them as AWS does (per instance, the
/// number unpublished).
///
/// With a ``connectionLimit``, the simulator stops accepting while that many client connections are open; further
/// connections complete in the kernel and wait in the listen queue (``backlog``) until one closes, and once the
/// queue is full the kernel drops their SYNs, so that the client's connect times out.
package struct ListenerLimits: Sendable, Equatable {
    /// The listen backlog (`listen(2)`): connections queued before the simulator accepts them.
    package var backlog: Int
    /// The most client connections open at once; `nil` for no limit.
    package var connectionLimit: Int?

    /// Creates limits.
    /// - Parameters:
    ///   - backlog: The listen backlog (default 256; at least 0).
    ///   - connectionLimit: The most connections open at once (`nil`, the default: unlimited; at least 1).
    package init(backlog: Int = 256, connectionLimit: Int? = nil) {
        self.backlog = max(0, backlog)
        self.connectionLimit = connectionLimit.map { max(1, $0) }
    }
}

/// Sits in the listening channel's pipeline in front of the accept handler: counts the open connections and pauses
/// accepting (`autoRead` off on the listener) while ``ListenerLimits/connectionLimit`` are open.
final class ConnectionLimiter: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let limit: Int
    private var open = 0
    private var paused = false

    init(limit: Int) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        open += 1
        let limiter = NIOLoopBound(self, eventLoop: context.eventLoop)
        let listener = context.channel
        connection.closeFuture.hop(to: context.eventLoop).whenComplete { _ in
            limiter.value.closed(listener: listener)
        }
        if open >= limit, !paused {
            paused = true
            _ = listener.setOption(ChannelOptions.autoRead, value: false)
        }
        context.fireChannelRead(data)
    }

    private func closed(listener: any Channel) {
        open -= 1
        if open < limit, paused {
            paused = false
            _ = listener.setOption(ChannelOptions.autoRead, value: true)
        }
    }
}
