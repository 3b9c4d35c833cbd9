#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Sends one datagram to a `$NOTIFY_SOCKET` address: the socket code behind ``SystemdNotifier``.
///
/// Written here rather than calling `sd_notify` so the address comes from an injected environment instead of
/// the process-global one. Supports what systemd hands out: an absolute path, or `@name` for an abstract socket.
enum NotifyDatagram {
    /// Sends `message` as one datagram to `address`.
    /// - Parameters:
    ///   - message: `VAR=value` lines.
    ///   - address: `$NOTIFY_SOCKET`.
    /// - Throws: ``JournalError`` `.notifyAddress` for an unusable address, `.notifySocket` or `.notifySend` with
    ///   the errno of the failing call.
    static func send(_ message: String, to address: String) throws(JournalError) {
        var path = Array(address.utf8)
        let isAbstract = path.first == UInt8(ascii: "@")
        guard isAbstract || path.first == UInt8(ascii: "/") else {
            throw JournalError(code: .notifyAddress, context: address)
        }
        if isAbstract { path[0] = 0 }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        // A path needs its terminating NUL; an abstract name uses the exact length.
        guard path.count + (isAbstract ? 0 : 1) <= capacity, path.count > 1 else {
            throw JournalError(code: .notifyAddress, context: address)
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (isAbstract ? 0 : 1))

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw JournalError(code: .notifySocket, errno: ErrorNumber.current, context: address)
        }
        defer { close(descriptor) }

        let bytes = Array(message.utf8)
        while true {
            let sent = bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &socketAddress) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                        sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), generic, length)
                    }
                }
            }
            if sent >= 0 { return }
            let number = ErrorNumber.current
            if number == EINTR { continue }
            throw JournalError(code: .notifySend, errno: number, context: address)
        }
    }
}
