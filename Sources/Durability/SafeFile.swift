import Events

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file calls of the state directory (state, outbox, pending hooks), in one place: every open is
/// `O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC` and checked with `fstat` (a symlink or a FIFO planted where a file should
/// be is refused, never followed, never waited on); writes go to an `O_EXCL` temporary file with a random name,
/// are fsynced, renamed over the target and the directory is fsynced. Calls retry on `EINTR` (``SystemCall``).
package enum SafeFile {
    /// A failed file operation: what was attempted on which path, and why.
    package struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The attempted operation (`read`, `create`, `rename`…).
        package var operation: String
        /// The path involved.
        package var path: String
        /// The `errno` value (`0` when ``reason`` says why).
        package var errno: Int32
        /// Set when the cause is not an errno (`not a regular file`).
        package var reason: String?

        /// Creates a failure.
        package init(operation: String, path: String, errno: Int32, reason: String? = nil) {
            self.operation = operation
            self.path = path
            self.errno = errno
            self.reason = reason
        }

        /// The file does not exist.
        package var isNotFound: Bool { errno == ENOENT }

        /// `cannot read /var/lib/imdswatch/state.json: not a regular file (a FIFO)`.
        package var description: String {
            "cannot \(operation) \(path): \(reason ?? SystemCall.describe(errno: errno))"
        }
    }

    /// The whole regular file at `path`, refusing symlinks and anything that is not a regular file.
    /// - Parameters:
    ///   - path: The file.
    ///   - limit: Larger files are refused.
    /// - Throws: ``Failure`` (``Failure/isNotFound`` when there is no file).
    package static func readRegularFile(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        try readRegularFile(path, limit: limit, followingSymlink: false).bytes
    }

    /// The whole regular file at `path` like ``readRegularFile(_:limit:)``, or `nil` when there is no file there.
    /// - Parameters:
    ///   - path: The file.
    ///   - limit: Larger files are refused.
    /// - Returns: The bytes, or `nil` when nothing is at `path` (`ENOENT`, also for a missing parent directory).
    /// - Throws: ``Failure`` for anything else: a symlink, a FIFO, a directory, a file too large, a read error.
    package static func readRegularFileIfPresent(_ path: String, limit: Int) throws(Failure) -> [UInt8]? {
        do throws(Failure) {
            return try readRegularFile(path, limit: limit)
        } catch {
            if error.isNotFound { return nil }
            throw error
        }
    }

    /// The whole regular file at `path` and its permission bits, both from one descriptor: a symlink is followed
    /// and its target judged (for files configured by path, such as a webhook secret).
    /// - Throws: ``Failure`` (``Failure/isNotFound`` when there is no file).
    package static func readRegularFileFollowingSymlink(_ path: String, limit: Int) throws(Failure) -> (
        bytes: [UInt8], mode: UInt32
    ) {
        try readRegularFile(path, limit: limit, followingSymlink: true)
    }

    private static func readRegularFile(_ path: String, limit: Int, followingSymlink: Bool) throws(Failure) -> (
        bytes: [UInt8], mode: UInt32
    ) {
        let fd = try openFile(path, O_RDONLY | O_NONBLOCK | (followingSymlink ? 0 : O_NOFOLLOW), operation: "read")
        defer { _ = close(fd) }
        let status = try fileStatus(of: fd, path: path, operation: "read")
        if let kind = FileKind(mode: status.st_mode), kind != .regular {
            throw Failure(operation: "read", path: path, errno: 0, reason: "not a regular file (\(kind))")
        }
        let mode = UInt32(status.st_mode & 0o7777)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let (count, code) = chunk.withUnsafeMutableBytes { buffer in
                SystemCall.retryingOnInterrupt { read(fd, buffer.baseAddress, buffer.count) }
            }
            if count < 0 { throw Failure(operation: "read", path: path, errno: code) }
            if count == 0 { return (result, mode) }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit {
                throw Failure(operation: "read", path: path, errno: EFBIG, reason: "larger than \(limit) bytes")
            }
        }
    }

    /// Replaces `directory/name` with `bytes` atomically and durably: a new `O_EXCL | O_NOFOLLOW` temporary file
    /// with a random name, fsync, rename over the target (a symlink there is replaced, not followed), fsync of the
    /// directory. Readers see the old file or the new one, even after a power loss.
    /// - Parameter mode: The new file's permission bits, set exactly (whatever the umask): 0600 by default; 0644
    ///   for a file another user reads (the metrics textfile).
    /// - Throws: ``Failure`` naming the failed step; the previous file is then intact.
    package static func writeDurably(_ bytes: [UInt8], directory: String, name: String, mode: mode_t = 0o600)
        throws(Failure)
    {
        let target = join(directory, name)
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = join(directory, ".\(name).\(randomSuffix()).tmp")
            do throws(Failure) {
                fd = try openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600, operation: "create")
                break
            } catch  where error.errno == EEXIST {
                continue
            }
        }
        guard fd >= 0 else { throw Failure(operation: "create", path: temporary, errno: EEXIST) }
        do throws(Failure) {
            if mode != 0o600, fchmod(fd, mode) != 0 { throw Failure(operation: "chmod", path: temporary, errno: errno) }
            let code = SystemCall.writeAll(fd, bytes)
            if code != 0 { throw Failure(operation: "write", path: temporary, errno: code) }
            let synced = SystemCall.retryingOnInterrupt { fsync(fd) }
            if synced.value != 0 { throw Failure(operation: "fsync", path: temporary, errno: synced.errno) }
            _ = close(fd)
            fd = -1
            let renamed = SystemCall.retryingOnInterrupt { rename(temporary, target) }
            if renamed.value != 0 {
                throw Failure(operation: "rename \(temporary) to", path: target, errno: renamed.errno)
            }
        } catch {
            if fd >= 0 { _ = close(fd) }
            _ = unlink(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Whether `name` is a temporary file of ``writeDurably(_:directory:name:)`` (left behind by a crash).
    package static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".") && name.hasSuffix(".tmp")
    }

    /// Removes `directory/name` (a missing file is fine) and makes the removal durable.
    /// - Throws: ``Failure`` when the file cannot be removed or the directory not synced.
    package static func remove(directory: String, name: String) throws(Failure) {
        let path = join(directory, name)
        if unlink(path) != 0, errno != ENOENT { throw Failure(operation: "remove", path: path, errno: errno) }
        try syncDirectory(directory)
    }

    /// Renames a damaged state file to `NAME.corrupt-TIMESTAMP` (`-2`, `-3`… when taken) in its directory: the one
    /// way every state file of the directory (watch state, event journal, lifecycle actions) is moved aside.
    /// - Returns: The new path.
    /// - Throws: ``Failure`` when the rename fails.
    package static func moveAside(directory: String, fileName: String, nowMilliseconds: Int64) throws(Failure) -> String
    {
        let stamp = Timestamp.rfc3339(seconds: nowMilliseconds / 1000).filter { $0 != ":" }
        var target = "\(fileName).corrupt-\(stamp)"
        var counter = 1
        while kind(of: directory + "/" + target) != nil {
            counter += 1
            target = "\(fileName).corrupt-\(stamp)-\(counter)"
        }
        try move(directory: directory, from: fileName, to: target)
        return directory + "/" + target
    }

    /// Renames `directory/from` to `directory/to` (which should not exist) and makes it durable.
    /// - Throws: ``Failure`` when the rename fails.
    package static func move(directory: String, from: String, to: String) throws(Failure) {
        let path = join(directory, from)
        let renamed = SystemCall.retryingOnInterrupt { rename(path, join(directory, to)) }
        if renamed.value != 0 { throw Failure(operation: "rename", path: path, errno: renamed.errno) }
        try syncDirectory(directory)
    }

    /// Creates the directory `path` (mode 0700), and its parents when `parents` is set, unless it exists; refuses a
    /// symlink or anything else that is not a directory at `path`.
    /// - Throws: ``Failure`` when it cannot be created or is not a directory.
    package static func makeDirectory(_ path: String, parents: Bool = false) throws(Failure) {
        if parents {
            var prefix = path.hasPrefix("/") ? "" : "."
            for component in path.split(separator: "/").dropLast() {
                prefix += "/" + component
                if mkdir(prefix, 0o700) != 0, errno != EEXIST {
                    throw Failure(operation: "create directory", path: prefix, errno: errno)
                }
            }
        }
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw Failure(operation: "create directory", path: path, errno: errno)
        }
        let kind = try linkKind(path)
        if kind != .directory {
            throw Failure(operation: "use directory", path: path, errno: 0, reason: "it is a \(kind), not a directory")
        }
    }

    /// What is at `path` without following a symlink there, or `nil` when nothing is.
    package static func kind(of path: String) -> FileKind? {
        try? linkKind(path)
    }

    /// The names in `directory` (without `.` and `..`), sorted by bytes.
    /// - Parameter followingSymlink: Follow `directory` when it is a symlink (not done by default).
    /// - Throws: ``Failure`` when the directory cannot be opened.
    package static func entries(of directory: String, followingSymlink: Bool = false) throws(Failure) -> [String] {
        let fd = try openFile(
            directory, O_RDONLY | O_DIRECTORY | (followingSymlink ? 0 : O_NOFOLLOW), operation: "list")
        guard let handle = fdopendir(fd) else {
            let code = errno
            _ = close(fd)
            throw Failure(operation: "list", path: directory, errno: code)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The `NAME.json` records of a directory written with ``writeDurably(_:directory:name:)``, in name order:
    /// removes the temporary files a crash left behind and moves each record that `decode` rejects (or that cannot
    /// be read) aside as `NAME.json.corrupt`, calling `corrupt` with its path.
    /// - Returns: The decoded records; none when the directory does not exist.
    /// - Throws: ``Failure`` when the directory exists but cannot be listed.
    package static func loadRecords<Record>(
        in directory: String, limit: Int, decode: ([UInt8], String) -> Record?, corrupt: (String) -> Void
    ) throws(Failure) -> [Record] {
        let names: [String]
        do throws(Failure) {
            names = try entries(of: directory)
        } catch  where error.isNotFound {
            return []
        }
        var records: [Record] = []
        for name in names {
            if isTemporaryName(name) {
                try? remove(directory: directory, name: name)
                continue
            }
            guard name.hasSuffix(".json") else { continue }
            let path = join(directory, name)
            if let bytes = try? readRegularFile(path, limit: limit), let record = decode(bytes, name) {
                records.append(record)
            } else {
                corrupt(path)
                try? move(directory: directory, from: name, to: name + ".corrupt")
            }
        }
        return records
    }

    // MARK: - Helpers

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0, operation: String) throws(Failure) -> Int32 {
        let (fd, code) = SystemCall.retryingOnInterrupt { open(path, flags | O_CLOEXEC, mode) }
        if fd >= 0 { return fd }
        // O_NOFOLLOW on a symlink fails with ELOOP: say what it is.
        if code == ELOOP, flags & O_NOFOLLOW != 0 {
            throw Failure(operation: operation, path: path, errno: code, reason: "it is a symlink (not followed)")
        }
        throw Failure(operation: operation, path: path, errno: code)
    }

    static func fileStatus(of fd: Int32, path: String, operation: String) throws(Failure) -> stat {
        var info = stat()
        if fstat(fd, &info) != 0 { throw Failure(operation: operation, path: path, errno: errno) }
        return info
    }

    private static func linkKind(_ path: String) throws(Failure) -> FileKind {
        var info = stat()
        if lstat(path, &info) != 0 { throw Failure(operation: "examine", path: path, errno: errno) }
        return FileKind(mode: info.st_mode) ?? .other
    }

    static func syncDirectory(_ directory: String) throws(Failure) {
        let fd = try openFile(directory, O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { _ = close(fd) }
        let synced = SystemCall.retryingOnInterrupt { fsync(fd) }
        if synced.value != 0 { throw Failure(operation: "fsync directory", path: directory, errno: synced.errno) }
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory == "/" ? "/" + name : directory + "/" + name
    }

    private static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let text = String(value, radix: 36)
        return String(repeating: "0", count: max(0, 13 - text.count)) + text
    }
}

/// What kind of file a path names (from `st_mode`), for messages and checks.
package enum FileKind: String, Sendable, Equatable, CustomStringConvertible {
    case regular = "regular file"
    case directory
    case symlink
    case fifo = "FIFO"
    case socket
    case device
    case other = "special file"

    init?(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        case S_IFCHR, S_IFBLK: self = .device
        default: return nil
        }
    }

    package var description: String { rawValue }
}
