#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `bytes` to stdout unbuffered and unchanged, retrying partial writes and EINTR.
/// - Returns: `false` when stdout is closed or broken (EPIPE), so the caller can stop writing.
@discardableResult
func writeOutput(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(1, buffer.baseAddress?.advanced(by: offset), buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

/// Writes `text` and a newline to stdout through ``writeOutput(_:)``.
@discardableResult
func writeLine(_ text: String) -> Bool {
    writeOutput(Array((text + "\n").utf8))
}
