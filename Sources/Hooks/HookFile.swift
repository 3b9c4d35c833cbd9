import Durability
import Events

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A hook file opened once: its path walked component by component (``TrustedPath``: every directory and symlink
/// on the way owned by root or the daemon's user, none writable by others), then ownership, mode and kind checked
/// on the open descriptor, and the hook executed from that same descriptor, so what was checked is what runs.
///
/// The hook runs as `/proc/<daemon pid>/fd/<n>`: the kernel execs the open file, and an interpreter (`#!`) opens
/// that path again while the daemon still holds the descriptor, reaching the same checked file. The descriptor
/// is close-on-exec in the daemon, so no hook inherits another's. A symlink flipped after the check changes
/// nothing: the descriptor stays on the file that was checked.
final class HookFile: Sendable {
    /// The open descriptor (`O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC`); closed when this is released.
    let fd: Int32

    private init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        _ = close(fd)
    }

    /// The result of ``open(_:owner:)``.
    enum Opening {
        case opened(HookFile)
        case refused(HookSkipReason)
    }

    /// The path that executes exactly this open file.
    var executablePath: String { "/proc/\(getpid())/fd/\(fd)" }

    /// Opens and checks the hook at `path`.
    /// - Parameters:
    ///   - path: The hook (in `hooks.d/` or `hooks.d/TYPE.d/`; symlinks are followed, each one checked).
    ///   - owner: The daemon's effective user (trusted besides root).
    /// - Returns: The opened hook, or why it must not run.
    static func open(_ path: String, owner: UInt32) -> Opening {
        let opened: TrustedPath.Opened
        switch TrustedPath(trustedUser: owner).openChecked(path, checkingFinal: false) {
        case .success(let value): opened = value
        case .failure(let refusal) where refusal.isNotFound: return .refused(.notRegularFile)
        case .failure(let refusal) where refusal.isUnsafe: return .refused(.unsafePath(refusal.description))
        case .failure(let refusal): return .refused(.unreadable(refusal.description))
        }
        let file = HookFile(fd: opened.fd)
        switch opened.kind {
        case .directory: return .refused(.directory)
        case .regular: break
        default: return .refused(.notRegularFile)
        }
        if opened.owner != 0, opened.owner != owner { return .refused(.foreignOwner(opened.owner)) }
        if opened.mode & 0o022 != 0 { return .refused(.groupOrWorldWritable) }
        if opened.mode & 0o111 == 0 || access(file.executablePath, X_OK) != 0 { return .refused(.notExecutable) }
        return .opened(file)
    }
}
