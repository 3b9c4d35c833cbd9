import Foundation
import NIOCore
import NIOHTTP1

/// Serves one connection: collects each request, applies faults, and answers from the router or the control API.
///
/// Runs on the connection's event loop only. `HTTPServerPipelineHandler` in front of it keeps pipelined requests
/// in order, so there is at most one request in progress at a time.
final class SimulatorHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest control-API body accepted.
    private static let maxBodyBytes = 1 << 20

    private let core: SimulatorCore
    private let control: ControlAPI
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var bodyTooLarge = false

    init(core: SimulatorCore, control: ControlAPI) {
        self.core = core
        self.control = control
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
            bodyTooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > Self.maxBodyBytes {
                bodyTooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if head.uri == "/_sim" || head.uri.hasPrefix("/_sim/") || head.uri.hasPrefix("/_sim?") {
            core.countControlRequest()
            let response =
                bodyTooLarge
                ? .controlError(.payloadTooLarge, "request body larger than \(Self.maxBodyBytes) bytes")
                : core.aws.control(method: head.method, uri: head.uri, body: body)
                    ?? control.respond(method: head.method, uri: head.uri, body: body)
            write(response, for: head, context: context, countStatus: false)
            return
        }
        if SimulatedAutoScalingAPI.handles(head.uri) {
            let (answer, delay) = SimulatedAutoScalingAPI.respond(
                head: head, body: body, aws: core.aws, state: core.state)
            // No answer at all for the `Hang` fault.
            guard let response = answer else { return }
            guard delay > 0 else {
                write(response, for: head, context: context)
                return
            }
            _ = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(delay * 1_000_000_000))) {
                [self] in
                guard context.channel.isActive else { return }
                write(response, for: head, context: context)
            }
            return
        }
        let path = IMDSPath(uri: head.uri)
        core.countRequest(
            path: path.key, isTokenRequest: path.isToken && head.method == .PUT, isGet: head.method == .GET)
        switch core.takeFault(for: path.key) {
        case nil:
            answer(head, path: path, context: context)
        case .status(let code):
            write(.errorPage(HTTPResponseStatus(statusCode: code)), for: head, context: context)
        case .delay(let seconds):
            let delay = TimeAmount.nanoseconds(Int64(seconds * 1_000_000_000))
            _ = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                guard context.channel.isActive else { return }
                answer(head, path: path, context: context)
            }
        case .hang:
            break
        case .reset:
            reset(context: context)
        case .malformed:
            write(
                SimulatorResponse(status: .ok, headers: [("Content-Type", "text/plain")], body: Self.garbage),
                for: head, context: context)
        case .oversized(let bytes):
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: bytes)
            write(
                SimulatorResponse(status: .ok, headers: [("Content-Type", "text/plain")], body: body), for: head,
                context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, path: IMDSPath, context: ChannelHandlerContext) {
        write(
            IMDSRouter.respond(method: head.method, path: path, headers: head.headers, core: core), for: head,
            context: context)
    }

    /// Garbage served by the `malformed` fault: truncated JSON, invalid UTF-8 and a NUL byte.
    static let garbage: ByteBuffer = {
        var buffer = ByteBuffer(string: "{\"action\": \"term")
        buffer.writeBytes([0xFF, 0xFE, 0x00, 0xC3])
        buffer.writeString("<<malformed>>]}")
        return buffer
    }()

    private func write(
        _ response: SimulatorResponse, for request: HTTPRequestHead, context: ChannelHandlerContext,
        countStatus: Bool = true
    ) {
        if countStatus { core.countResponse(status: Int(response.status.code)) }
        let keepAlive = request.isKeepAlive
        var headers = HTTPHeaders(response.headers)
        headers.add(name: "Server", value: "EC2ws")
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let head = HTTPResponseHead(version: request.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Closes the connection with a TCP RST (SO_LINGER 0) and no answer.
    private func reset(context: ChannelHandlerContext) {
        guard let provider = context.channel as? any SocketOptionProvider else {
            context.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
