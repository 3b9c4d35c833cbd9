#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Walks a path from `/` one component at a time, as OpenSSH's StrictModes and sudo do, and refuses it when
/// someone other than root or the daemon's user could change what it names.
///
/// Every directory on the way, every symlink followed (resolved by hand, with `openat`/`O_NOFOLLOW`, so what was
/// checked is what is used) and the final file must be owned by root or by ``trustedUser``. A directory on the way
/// that is writable by its group or by everyone must have the sticky bit (like `/tmp`): then nobody else can replace
/// the root-owned entry the walk continues through. The final directory or file must not be writable by its group
/// or by everyone at all.
package struct TrustedPath: Sendable {
    /// The user trusted besides root: the daemon's effective user.
    package var trustedUser: UInt32

    /// Creates a walker trusting root and `trustedUser` (the effective user by default).
    package init(trustedUser: UInt32 = UInt32(geteuid())) {
        self.trustedUser = trustedUser
    }

    /// Why `path` is not safe, or `nil` when root or the trusted user alone control it.
    /// - Parameter path: A directory, or a file that is used but not executed.
    /// - Returns: One sentence naming the path at fault; a path that does not exist yet is judged by its nearest
    ///   existing ancestor.
    package func problem(withDirectory path: String) -> String? {
        var existing = Self.absolute(path)
        var ancestor = false
        while true {
            // An ancestor standing in for a missing directory is judged as a directory on the way (sticky is fine).
            switch openChecked(existing, finalIsOnTheWay: ancestor) {
            case .success(let opened):
                _ = close(opened.fd)
                return nil
            case .failure(let failure) where failure.isNotFound && existing != "/":
                existing = Self.parent(of: existing)
                ancestor = true
            case .failure(let failure):
                return failure.description
            }
        }
    }

    /// A file or directory opened after the walk: its descriptor (`O_CLOEXEC`, the caller closes it) and `fstat`.
    package struct Opened: Sendable {
        /// The open descriptor (`O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`).
        package var fd: Int32
        /// Owner user id.
        package var owner: UInt32
        /// Permission bits (`0o7777`).
        package var mode: UInt32
        /// What it is.
        package var kind: FileKind
        /// The path the walk ended at (symlinks resolved).
        package var resolvedPath: String
    }

    /// Why a path was refused.
    package struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path (or component) at fault.
        package var path: String
        /// The cause, one phrase (`owned by uid 65534`).
        package var cause: String
        /// Nothing is there.
        package var isNotFound: Bool = false
        /// Refused because someone else could change it (not because a call failed).
        package var isUnsafe: Bool = false

        package var description: String { "\(path) is unsafe: \(cause)" }
    }

    /// Walks to `path` and opens it, checking every component on the way and the result on its descriptor.
    /// - Parameters:
    ///   - path: The path to open (symlinks are followed by hand, each one checked).
    ///   - checkingFinal: Judge the final file's owner and mode too (off: the caller judges them on ``Opened``).
    ///   - finalIsOnTheWay: Judge a final directory as one on the way (a sticky, world-writable one is accepted).
    /// - Returns: The opened file; the caller checks its kind and closes it.
    package func openChecked(_ path: String, checkingFinal: Bool = true, finalIsOnTheWay: Bool = false) -> Result<
        Opened, Refusal
    > {
        var pending = Self.components(Self.absolute(path))
        pending.reverse()
        var directoryFD = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryFD >= 0 else { return .failure(Refusal(path: "/", cause: SystemCall.describe(errno: errno))) }
        var directoryPath = "/"
        var stack: [(fd: Int32, path: String)] = []
        var retired: [Int32] = []
        var hops = 0
        defer {
            _ = close(directoryFD)
            for entry in stack { _ = close(entry.fd) }
            for fd in retired { _ = close(fd) }
        }
        if let problem = directoryProblem(directoryFD, path: "/", final: pending.isEmpty && !finalIsOnTheWay) {
            return .failure(problem)
        }
        if pending.isEmpty { return reopen(directoryFD, path: "/", onTheWay: finalIsOnTheWay) }

        while let name = pending.popLast() {
            let here = directoryPath == "/" ? "/" + name : directoryPath + "/" + name
            if name == "." { continue }
            if name == ".." {
                if let previous = stack.popLast() {
                    _ = close(directoryFD)
                    directoryFD = previous.fd
                    directoryPath = previous.path
                }
                if pending.isEmpty { return reopen(directoryFD, path: directoryPath, onTheWay: finalIsOnTheWay) }
                continue
            }
            var info = stat()
            if fstatat(directoryFD, name, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                let code = errno
                return .failure(
                    Refusal(path: here, cause: SystemCall.describe(errno: code), isNotFound: code == ENOENT))
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                hops += 1
                if hops > 40 { return .failure(Refusal(path: here, cause: "too many symlinks", isUnsafe: true)) }
                if let refusal = ownerProblem(UInt32(info.st_uid), path: here, what: "symlink") {
                    return .failure(refusal)
                }
                guard let target = Self.readLink(directoryFD, name) else {
                    return .failure(Refusal(path: here, cause: SystemCall.describe(errno: errno)))
                }
                pending.append(contentsOf: Self.components(target).reversed())
                if target.hasPrefix("/") {
                    retired.append(directoryFD)
                    retired.append(contentsOf: stack.map(\.fd))
                    stack = []
                    directoryFD = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                    directoryPath = "/"
                    if directoryFD < 0 { return .failure(Refusal(path: "/", cause: SystemCall.describe(errno: errno))) }
                }
                if pending.isEmpty { return reopen(directoryFD, path: directoryPath, onTheWay: finalIsOnTheWay) }
                continue
            }
            let fd = openat(directoryFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                let cause = code == ELOOP ? "it became a symlink while being checked" : SystemCall.describe(errno: code)
                return .failure(Refusal(path: here, cause: cause, isNotFound: code == ENOENT, isUnsafe: code == ELOOP))
            }
            if pending.isEmpty {
                if checkingFinal, let problem = finalProblem(fd, path: here, onTheWay: finalIsOnTheWay) {
                    _ = close(fd)
                    return .failure(problem)
                }
                return describe(fd, path: here)
            }
            if let problem = directoryProblem(fd, path: here, final: false) {
                _ = close(fd)
                return .failure(problem)
            }
            stack.append((directoryFD, directoryPath))
            directoryFD = fd
            directoryPath = here
        }
        return reopen(directoryFD, path: directoryPath, onTheWay: finalIsOnTheWay)
    }

    // MARK: - Checks

    private func ownerProblem(_ owner: UInt32, path: String, what: String) -> Refusal? {
        guard owner != 0, owner != trustedUser else { return nil }
        return Refusal(
            path: path, cause: "the \(what) is owned by uid \(owner), neither root nor the daemon's user",
            isUnsafe: true)
    }

    /// A directory on the way: trusted owner; writable by others only with the sticky bit (not for the last one).
    private func directoryProblem(_ fd: Int32, path: String, final: Bool) -> Refusal? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return Refusal(path: path, cause: SystemCall.describe(errno: errno)) }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            return Refusal(path: path, cause: "not a directory", isUnsafe: true)
        }
        if let refusal = ownerProblem(UInt32(info.st_uid), path: path, what: "directory") { return refusal }
        if info.st_mode & 0o022 != 0, final || info.st_mode & S_ISVTX == 0 {
            return Refusal(
                path: path, cause: "the directory is writable by its group or by everyone (chmod go-w)", isUnsafe: true)
        }
        return nil
    }

    private func finalProblem(_ fd: Int32, path: String, onTheWay: Bool) -> Refusal? {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return Refusal(path: path, cause: SystemCall.describe(errno: errno)) }
        if info.st_mode & S_IFMT == S_IFDIR { return directoryProblem(fd, path: path, final: !onTheWay) }
        if let refusal = ownerProblem(UInt32(info.st_uid), path: path, what: "file") { return refusal }
        if info.st_mode & 0o022 != 0 {
            return Refusal(
                path: path, cause: "the file is writable by its group or by everyone (chmod go-w)", isUnsafe: true)
        }
        return nil
    }

    private func reopen(_ directoryFD: Int32, path: String, onTheWay: Bool) -> Result<Opened, Refusal> {
        let fd = openat(directoryFD, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Refusal(path: path, cause: SystemCall.describe(errno: errno))) }
        if let problem = directoryProblem(fd, path: path, final: !onTheWay) {
            _ = close(fd)
            return .failure(problem)
        }
        return describe(fd, path: path)
    }

    private func describe(_ fd: Int32, path: String) -> Result<Opened, Refusal> {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            _ = close(fd)
            return .failure(Refusal(path: path, cause: SystemCall.describe(errno: code)))
        }
        return .success(
            Opened(
                fd: fd, owner: UInt32(info.st_uid), mode: UInt32(info.st_mode & 0o7777),
                kind: FileKind(mode: info.st_mode) ?? .other, resolvedPath: path
            ))
    }

    // MARK: - Paths

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" + path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return cwd == "/" ? "/" + path : cwd + "/" + path
    }

    static func components(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    static func parent(of path: String) -> String {
        var parts = components(path)
        _ = parts.popLast()
        return "/" + parts.joined(separator: "/")
    }

    private static func readLink(_ directoryFD: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directoryFD, name, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
