import Durability
import Events

/// Writes `bytes` to stdout unbuffered and unchanged, retrying partial writes and EINTR.
/// - Returns: `false` when stdout is closed or broken (EPIPE), so the caller can stop writing.
@discardableResult
func writeOutput(_ bytes: [UInt8]) -> Bool {
    SystemCall.writeAll(1, bytes) == 0
}

/// Writes `text` and a newline to stdout through ``writeOutput(_:)``.
@discardableResult
func writeLine(_ text: String) -> Bool {
    writeOutput(Array((text + "\n").utf8))
}
