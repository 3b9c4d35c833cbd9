import HTTP
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What `CurlTransport`'s doc says and `CancellableSend`'s comment must agree with: cancelling the task that sends a
/// request aborts the libcurl transfer in flight (the connection is closed, the call returns `.cancelled`) instead of
/// letting it run to its timeout.
@Suite(.timeLimit(.minutes(2))) struct CurlCancellationTests {
    @Test func cancellingTheSendingTaskAbortsTheTransferInFlight() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let transport = CurlTransport()
        // A receiver that never answers: without the abort the call would end only at this timeout, as `.timedOut`.
        let request = HTTPRequest(
            method: .post, url: "http://127.0.0.1:\(listener.port)/hook", body: Array("{}".utf8),
            connectTimeout: .seconds(30), totalTimeout: .seconds(90), maxResponseBytes: 1024
        )
        let sender = Task { () -> HTTPError? in
            do throws(HTTPError) {
                _ = try await transport.send(request)
                return nil
            } catch {
                return error
            }
        }
        // The request has reached the receiver: the transfer is in flight, not waiting to start.
        let connection = try await listener.acceptRequest()
        defer { _ = Glibc.close(connection) }
        sender.cancel()
        let error = await sender.value
        #expect(error?.code == .cancelled, "\(String(describing: error))")
        // libcurl dropped the connection: the receiver reads end-of-file (not a timeout of its own wait).
        #expect(SilentListener.waitForEndOfFile(connection, timeoutMilliseconds: 60_000))
    }
}

/// A TCP listener on 127.0.0.1 that accepts one connection, reads the request head and never answers.
private struct SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ListenerError(step: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw ListenerError(step: "bind", code: errno) }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }

    /// Accepts the next connection and reads until the end of its request head.
    func acceptRequest() async throws -> Int32 {
        let fd = self.fd
        return try await Task.detached { () throws -> Int32 in
            guard Self.waitReadable(fd, timeoutMilliseconds: 60_000) else {
                throw ListenerError(step: "accept (none came)", code: 0)
            }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { throw ListenerError(step: "accept", code: errno) }
            var head: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            let end = Array("\r\n\r\n".utf8)
            while !head.indices.contains(where: { head[$0...].starts(with: end) }) {
                guard Self.waitReadable(connection, timeoutMilliseconds: 60_000) else {
                    throw ListenerError(step: "read head", code: 0)
                }
                let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                guard count > 0 else { throw ListenerError(step: "read head", code: errno) }
                head += buffer[0..<count]
            }
            return connection
        }.value
    }

    /// Whether `connection` reaches end-of-file (the peer closed it) within the timeout, discarding what it sends.
    static func waitForEndOfFile(_ connection: Int32, timeoutMilliseconds: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while waitReadable(connection, timeoutMilliseconds: timeoutMilliseconds) {
            let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
            if count <= 0 { return true }
        }
        return false
    }

    private static func waitReadable(_ fd: Int32, timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, timeoutMilliseconds) == 1
    }
}

private struct ListenerError: Error {
    let step: String
    let code: Int32
}
