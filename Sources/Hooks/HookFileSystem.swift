import Durability
import Events

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The libc calls of the Hooks module: directory listing, `stat`, the event file, signals. Nothing else in the
/// module touches pointers or errno.
enum HookFileSystem {
    /// What `stat(2)` says about a path, reduced to what the skip rules need.
    struct FileStatus: Sendable, Equatable {
        enum Kind: Sendable, Equatable { case regular, directory, other }
        var kind: Kind
        var mode: UInt32
        var ownerID: UInt32

        /// Writable by the group or by everyone.
        var isGroupOrWorldWritable: Bool { mode & 0o022 != 0 }
    }

    /// The status of `path`, following symlinks, or the error when it cannot be read.
    static func status(of path: String) -> Result<FileStatus, HookFileError> {
        var info = stat()
        guard stat(path, &info) == 0 else { return .failure(HookFileError(path: path, errno: errno)) }
        let format = info.st_mode & S_IFMT
        let kind: FileStatus.Kind = format == S_IFREG ? .regular : format == S_IFDIR ? .directory : .other
        return .success(FileStatus(kind: kind, mode: UInt32(info.st_mode & 0o7777), ownerID: UInt32(info.st_uid)))
    }

    /// The effective user id of the daemon.
    static var effectiveUserID: UInt32 { UInt32(geteuid()) }

    /// The names in a directory (without `.` and `..`); a symlinked directory is followed.
    /// - Throws: ``HookFileError`` when the directory cannot be opened.
    static func entries(of directory: String) throws(HookFileError) -> [String] {
        do {
            return try SafeFile.entries(of: directory, followingSymlink: true)
        } catch {
            throw HookFileError(path: directory, errno: error.errno)
        }
    }

    /// Writes `bytes` to a new file with mode 0600 in `directory` and returns its path.
    /// - Throws: ``HookFileError`` when the file cannot be created or written.
    static func writePrivateFile(in directory: String, prefix: String, bytes: [UInt8]) throws(HookFileError) -> String {
        var template = Array("\(directory)/\(prefix)-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buffer -> Int32 in
            guard let base = buffer.baseAddress else { return -1 }
            return mkstemp(base)
        }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard fd >= 0 else { throw HookFileError(path: path, errno: errno) }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let code = SystemCall.writeAll(fd, bytes)
        if code != 0 {
            unlink(path)
            throw HookFileError(path: path, errno: code)
        }
        return path
    }

    /// Removes a file; a file already gone is fine.
    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Sends `signal` to the process group `group`; a group already gone is fine.
    static func signalProcessGroup(_ group: Int32, _ signal: Int32) {
        guard group > 1 else { return }
        _ = kill(-group, signal)
    }

    /// Whether any process of group `group` is still alive (zombies count until reaped).
    static func processGroupExists(_ group: Int32) -> Bool {
        guard group > 1 else { return false }
        return kill(-group, 0) == 0 || errno == EPERM
    }

    /// `SIGTERM`.
    static let terminateSignal = SIGTERM
    /// `SIGKILL`.
    static let killSignal = SIGKILL

    /// Ignores `SIGPIPE` in this process, so that writing the payload to a hook that closed its stdin fails with
    /// `EPIPE` instead of killing the daemon. Hooks get default signal dispositions back when they are spawned.
    /// Descriptors a hook's run needs at most: its file, three pipes, swift-subprocess's pidfd, exec-error pipe and
    /// monitor, with room to spare.
    static let descriptorsPerHook = 16

    /// Whether `count` more descriptors can be opened now: `nil` when they can, else the errno of the open that failed
    /// (EMFILE, ENFILE). swift-subprocess traps when one of a spawn's pipes cannot be made (its descriptor type
    /// checks on deinit that it was closed, and its error path leaves the pipes made before open), so a spawn is
    /// attempted only with this headroom.
    static func descriptorShortage(_ count: Int = descriptorsPerHook) -> Int32? {
        var opened: [Int32] = []
        defer { for fd in opened { _ = close(fd) } }
        for _ in 0..<count {
            let fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { return errno }
            opened.append(fd)
        }
        return nil
    }

    static func ignoreBrokenPipeSignal() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// The short name of a signal (`TERM`, `KILL`), or its number.
    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGABRT: "SIGABRT"
        case SIGKILL: "SIGKILL"
        case SIGSEGV: "SIGSEGV"
        case SIGPIPE: "SIGPIPE"
        case SIGALRM: "SIGALRM"
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        case SIGUSR2: "SIGUSR2"
        case SIGBUS: "SIGBUS"
        default: "signal \(number)"
        }
    }

    /// The index of the first `\n` in `bytes` (`memchr`: output of any size is scanned at memory speed).
    static func firstNewline(in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { buffer -> Int? in
            guard let base = buffer.baseAddress, let found = memchr(base, 0x0A, buffer.count) else { return nil }
            return bytes.startIndex + (UnsafeRawPointer(found) - base)
        }
    }

    /// The directory for event files: `$RUNTIME_DIRECTORY` (systemd), else `$TMPDIR`, else `/tmp`.
    static func defaultEventFileDirectory() -> String {
        for name in ["RUNTIME_DIRECTORY", "TMPDIR"] {
            if let value = getenv(name) {
                let text = String(cString: value)
                // RuntimeDirectory= with several entries is colon-separated: take the first.
                let first = text.split(separator: ":").first.map(String.init) ?? ""
                if !first.isEmpty { return first }
            }
        }
        return "/tmp"
    }
}

/// A file system call that failed while finding or preparing hooks.
package struct HookFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path involved.
    package var path: String
    /// The `errno` value.
    package var errno: Int32

    package var description: String { "\(path): \(SystemCall.describe(errno: errno))" }
}
