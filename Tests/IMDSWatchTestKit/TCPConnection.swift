import Foundation

/// A raw TCP client for tests of a server's connection handling: connect, send bytes, see whether the server closed.
package final class TCPConnection: @unchecked Sendable {
    private let fd: Int32

    /// Connects to `127.0.0.1:port` (blocking; the server's kernel completes the handshake).
    /// - Throws: ``TCPConnectionError`` with the errno when the socket or the connect fails.
    package init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TCPConnectionError(operation: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw TCPConnectionError(operation: "connect", code: code)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends `text` whole.
    /// - Returns: Whether it was sent (false once the server closed).
    @discardableResult
    package func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Reads what arrives within `timeout` and whether the server closed the connection then. Waits with
    /// `Task.sleep` between non-blocking reads: a blocked thread of the cooperative pool could starve the server
    /// under test.
    /// - Parameter timeout: How long to wait for the close: a hang guard, or the time in which no close is expected.
    /// - Returns: The bytes read and whether the end of the stream (or a reset) was seen.
    package func readUntilClosed(timeout: Duration) async -> (bytes: [UInt8], closed: Bool) {
        let deadline = ContinuousClock.now + timeout
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                bytes.append(contentsOf: buffer[0..<count])
                continue
            }
            if count == 0 { return (bytes, true) }
            let code = errno
            if code != EAGAIN, code != EWOULDBLOCK, code != EINTR { return (bytes, true) }
            guard ContinuousClock.now < deadline else { return (bytes, false) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// A socket call failed.
package struct TCPConnectionError: Error, CustomStringConvertible {
    /// `socket` or `connect`.
    package var operation: String
    /// The errno.
    package var code: Int32

    package var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
