#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Crash-safe file replacement: write a temporary file, fsync it, rename it over the target, fsync the directory.
enum DurableFile {
    /// Atomically replaces `directory/name` with `bytes` (mode 0600) and makes the change durable.
    /// - Throws: ``WebhookError`` with code ``WebhookError/Code/outbox`` naming the failed step and errno.
    static func write(_ bytes: [UInt8], directory: String, name: String) throws(WebhookError) {
        let target = directory + "/" + name
        let temporary = directory + "/." + name + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("create", temporary) }
        var written = 0
        while written < bytes.count {
            let chunk = Array(bytes[written...])
            let count = Glibc_write(fd, chunk)
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temporary)
                close(fd)
                unlink(temporary)
                throw error
            }
            written += count
        }
        guard fsync(fd) == 0 else {
            let error = failure("fsync", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, target) == 0 else {
            let error = failure("rename", target)
            unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Removes `directory/name` (a missing file is fine) and makes the removal durable.
    static func remove(directory: String, name: String) throws(WebhookError) {
        if unlink(directory + "/" + name) != 0, errno != ENOENT {
            throw failure("remove", directory + "/" + name)
        }
        try syncDirectory(directory)
    }

    /// Renames within `directory` (moving a corrupt file aside).
    static func move(directory: String, from: String, to: String) throws(WebhookError) {
        guard rename(directory + "/" + from, directory + "/" + to) == 0 else {
            throw failure("rename", directory + "/" + from)
        }
        try syncDirectory(directory)
    }

    /// Creates `path` (mode 0700) and its parents when missing.
    static func makeDirectory(_ path: String) throws(WebhookError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                throw failure("create directory", prefix)
            }
        }
    }

    private static func syncDirectory(_ directory: String) throws(WebhookError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", directory) }
    }

    private static func failure(_ step: String, _ path: String) -> WebhookError {
        let code = errno
        return WebhookError(code: .outbox, message: "outbox: cannot \(step) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }

    private static func Glibc_write(_ fd: Int32, _ bytes: [UInt8]) -> Int {
        #if canImport(Darwin)
        return Darwin.write(fd, bytes, bytes.count)
        #else
        return Glibc.write(fd, bytes, bytes.count)
        #endif
    }
}
