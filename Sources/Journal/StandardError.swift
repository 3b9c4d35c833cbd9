#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes whole lines to file descriptor 2 with one `write(2)` per line, so lines of concurrent writers never mix.
enum StandardError {
    /// Writes `line` plus a newline. Retries on EINTR and after partial writes; gives up silently on other
    /// errors, because there is nowhere left to report them.
    /// - Parameter line: One line, without its newline.
    static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = write(2, base + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && ErrorNumber.current == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
