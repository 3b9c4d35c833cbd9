#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few libc calls the Config module needs, with errno turned into a message.
enum FileSystem {
    /// A failed file operation.
    struct Failure: Error {
        /// `strerror` of the errno, e.g. `No such file or directory`.
        var message: String
    }

    /// The largest config file read (1 MiB); a bigger one is surely a mistake.
    static let maximumSize = 1 << 20

    /// Whether `path` names an existing file (or anything else that `stat` finds).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Reads a whole file as UTF-8 text (invalid sequences are repaired).
    /// - Throws: ``Failure`` when it cannot be opened or read, or is over ``maximumSize``.
    static func readText(_ path: String) throws(Failure) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(message: errorMessage()) }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(message: errorMessage())
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > maximumSize { throw Failure(message: "larger than 1 MiB") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func errorMessage() -> String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }
}
