#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few libc file calls the state store needs, retrying on EINTR and turning errno into a message.
public enum StateFileSystem {
    /// A failed call: what was attempted and `strerror(errno)`.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        var operation: String
        var errno: Int32
        public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
        var isNotFound: Bool { errno == ENOENT }
    }

    private static func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(Failure) -> Int32 {
        if result < 0 { throw Failure(operation: operation(), errno: errno) }
        return result
    }

    private static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) throws(Failure) -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw Failure(operation: "open \(path)", errno: errno) }
        }
    }

    /// The whole file, or a ``Failure`` (`isNotFound` when it does not exist).
    /// - Parameter limit: Files larger than this are refused.
    static func readFile(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = try openFile(path, O_RDONLY)
        defer { _ = close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in read(fd, buffer.baseAddress, buffer.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read \(path)", errno: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit { throw Failure(operation: "read \(path) (larger than \(limit) bytes)", errno: EFBIG) }
        }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename, fsync of the
    /// directory. Readers see the old file or the new one, never a mix, even after a crash or power loss.
    /// - Parameter mode: The file's permissions (0600: only the daemon's user reads it), set whatever the umask.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String, mode: mode_t = 0o600) throws(Failure) {
        let temporary = path + ".tmp"
        let fd = try openFile(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        do throws(Failure) {
            if mode != 0o600 { _ = try check(fchmod(fd, mode), "chmod \(temporary)") }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { buffer in
                    write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw Failure(operation: "write \(temporary)", errno: errno)
                }
                offset += written
            }
            _ = try check(fsync(fd), "fsync \(temporary)")
        } catch {
            _ = close(fd)
            _ = unlink(temporary)
            throw error
        }
        _ = close(fd)
        do throws(Failure) {
            _ = try check(rename(temporary, path), "rename \(temporary) to \(path)")
        } catch {
            _ = unlink(temporary)
            throw error
        }
        if let directoryFD = try? openFile(directory, O_RDONLY | O_DIRECTORY) {
            _ = fsync(directoryFD)
            _ = close(directoryFD)
        }
    }

    /// Renames `path` to `newPath`, replacing it if it exists (callers pick a fresh name).
    static func moveFile(_ path: String, to newPath: String) throws(Failure) {
        _ = try check(rename(path, newPath), "rename \(path) to \(newPath)")
    }

    /// True when something exists at `path`.
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` (mode 0700) unless it exists; parents must exist.
    static func makeDirectory(_ path: String) throws(Failure) {
        if mkdir(path, 0o700) < 0, errno != EEXIST { throw Failure(operation: "mkdir \(path)", errno: errno) }
    }

    /// The wall-clock time in milliseconds since the Unix epoch.
    static func wallClockMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
