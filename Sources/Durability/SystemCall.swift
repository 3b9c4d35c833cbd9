#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `EINTR` retry and `errno` capture of libc calls, and the text of an `errno`, written once (as NIO's
/// `System.swift` does) and used by ``SafeFile``, the journal and notify writers, the hook files and stdout.
package enum SystemCall {
    /// Runs a libc call until it does not fail with `EINTR`.
    /// - Parameter call: The call; it returns a negative value (normally `-1`) and sets `errno` on failure.
    /// - Returns: The call's result, and the `errno` read right after a failure (`0` after a success).
    package static func retryingOnInterrupt<Value: BinaryInteger>(_ call: () -> Value) -> (value: Value, errno: Int32) {
        while true {
            let value = call()
            if value >= 0 { return (value, 0) }
            let code = errno
            if code != EINTR { return (value, code) }
        }
    }

    /// Writes all of `bytes` to `descriptor`, retrying partial writes and `EINTR`.
    /// - Parameters:
    ///   - descriptor: An open file descriptor.
    ///   - bytes: The bytes to write.
    /// - Returns: `0` when everything was written, else the `errno` of the write that failed (`EIO` when a write
    ///   made no progress).
    package static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset < bytes.count {
            let (written, code) = retryingOnInterrupt { write(descriptor, base + offset, bytes.count - offset) }
            if written < 0 { return code }
            if written == 0 { return EIO }
            offset += written
        }
        return 0
    }

    /// Writes all of `bytes` to `descriptor`; see the raw-buffer variant.
    /// - Returns: `0` when everything was written, else the `errno` of the failed write.
    package static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { writeAll(descriptor, $0) }
    }

    /// The one way an `errno` value becomes text: its `strerror` text in lower case, to sit inside a sentence
    /// (`cannot open /x: no such file or directory`); `errno N` for a value the C library has no text for.
    /// - Parameter value: An `errno` value, read right after the failing call.
    /// - Returns: The text; never empty.
    package static func describe(errno value: Int32) -> String {
        guard let pointer = strerror(value) else { return "errno \(value)" }
        let text = String(cString: pointer)
        guard let first = text.first else { return "errno \(value)" }
        return first.lowercased() + text.dropFirst()
    }
}
