import Durability
import Events

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The libc calls behind a hook's payload descriptor and its process tree: `memfd_create` and seals, `/proc`,
/// `prctl(PR_SET_CHILD_SUBREAPER)`, `kill`, `waitpid` of adopted processes.
extension HookFileSystem {

    // MARK: - The payload as stdin

    /// A read-only descriptor holding `bytes` from offset 0, complete before any process can read it: a sealed
    /// `memfd` (no write, grow or shrink), or where memfds are unavailable a temporary file in `directory`,
    /// unlinked at once and opened read-only. The caller owns the descriptor.
    /// - Throws: ``HookFileError`` when neither can be made.
    static func sealedPayload(_ bytes: [UInt8], fallbackDirectory directory: String) throws(HookFileError) -> Int32 {
        let memfd = memfdCreate("imdswatch-payload", LinuxConstant.memfdCloseOnExec | LinuxConstant.memfdAllowSealing)
        if memfd >= 0 {
            let code = SystemCall.writeAll(memfd, bytes)
            let seals =
                LinuxConstant.sealSeal | LinuxConstant.sealShrink | LinuxConstant.sealGrow | LinuxConstant.sealWrite
            if code == 0, lseek(memfd, 0, SEEK_SET) == 0, fcntl(memfd, LinuxConstant.addSeals, seals) == 0 {
                return memfd
            }
            let failure = code != 0 ? code : errno
            close(memfd)
            throw HookFileError(path: "memfd:imdswatch-payload", errno: failure)
        }
        let path = try writePrivateFile(in: directory, prefix: "imdswatch-stdin", bytes: bytes)
        defer { remove(path) }
        let (reader, code) = SystemCall.retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard reader >= 0 else { throw HookFileError(path: path, errno: code) }
        return reader
    }

    /// Moves `descriptor`'s offset back to its start (each start of a hook reads its payload from the beginning).
    static func rewind(_ descriptor: Int32) -> Bool {
        lseek(descriptor, 0, SEEK_SET) == 0
    }

    /// Closes a descriptor this module opened.
    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    // MARK: - Processes

    /// One line of `/proc/PID/stat`, reduced to what the process tree needs.
    struct ProcessEntry: Sendable, Equatable {
        var pid: Int32
        var parent: Int32
        var processGroup: Int32
        var session: Int32
        /// Clock ticks since boot when it started (`starttime`): with the pid, it names one process for good.
        var startTicks: UInt64
        /// Exited, not yet reaped (`Z`) or being reaped (`X`).
        var isZombie: Bool
    }

    /// Every process in `/proc` (those that vanish while it is read are left out).
    static func processTable() -> [ProcessEntry] {
        guard let names = try? SafeFile.entries(of: "/proc", followingSymlink: false) else { return [] }
        return names.compactMap { name in Int32(name).flatMap(processEntry) }
    }

    /// The `/proc/PID/stat` line of `pid`, or `nil` when the process is gone.
    static func processEntry(_ pid: Int32) -> ProcessEntry? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { raw in
            SystemCall.retryingOnInterrupt { read(fd, raw.baseAddress, raw.count) }.value
        }
        guard count > 0 else { return nil }
        // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
        // priority nice threads itrealvalue starttime …"; comm may hold spaces and parentheses: split after the last ')'.
        let line = buffer[..<count]
        guard let close = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = line[(close + 1)...].split(separator: UInt8(ascii: " ")).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard fields.count > 19, let parent = Int32(fields[1]), let group = Int32(fields[2]),
            let session = Int32(fields[3]),
            let start = UInt64(fields[19])
        else { return nil }
        return ProcessEntry(
            pid: pid, parent: parent, processGroup: group, session: session, startTicks: start,
            isZombie: fields[0] == "Z" || fields[0] == "X"
        )
    }

    /// Clock ticks since boot now, in the unit of ``ProcessEntry/startTicks``.
    static func ticksSinceBoot() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_BOOTTIME, &now)
        let perSecond = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return UInt64(now.tv_sec) * perSecond + UInt64(now.tv_nsec) * perSecond / 1_000_000_000
    }

    /// Clock ticks in `duration` (rounded up).
    static func ticks(in duration: Duration) -> UInt64 {
        let perSecond = Int64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let (seconds, attoseconds) = duration.components
        let nanoseconds = attoseconds / 1_000_000_000
        let ticks = seconds.multipliedReportingOverflow(by: perSecond)
        guard !ticks.overflow else { return seconds < 0 ? 0 : UInt64.max / 2 }
        return UInt64(max(0, ticks.partialValue + (nanoseconds * perSecond + 999_999_999) / 1_000_000_000))
    }

    /// The duration of `ticks` clock ticks.
    static func duration(ofTicks ticks: UInt64) -> Duration {
        let perSecond = Int64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        return .seconds(Int64(clamping: ticks) / perSecond)
            + .nanoseconds(Int64(clamping: ticks) % perSecond * 1_000_000_000 / perSecond)
    }

    /// This process's pid, process group and session.
    static var ownIdentity: (pid: Int32, processGroup: Int32, session: Int32) {
        (getpid(), getpgrp(), getsid(0))
    }

    /// Sends `signal` to `process` if it is still that process (same start time): a pid reused since the snapshot
    /// is left alone. A process already gone is fine.
    static func signalProcess(_ process: ProcessEntry, _ signal: Int32) {
        guard process.pid > 1, let current = processEntry(process.pid), current.startTicks == process.startTicks else {
            return
        }
        _ = kill(process.pid, signal)
    }

    /// Reaps `pid`, a child of this process that has exited; never blocks.
    static func reap(_ pid: Int32) {
        var status: Int32 = 0
        _ = SystemCall.retryingOnInterrupt { waitpid(pid, &status, WNOHANG) }
    }

    /// Makes this process the reaper of its orphaned descendants (`PR_SET_CHILD_SUBREAPER`): a hook's child that
    /// leaves its process group (`setsid`) and loses its parent is re-parented here rather than to PID 1, so that it
    /// can still be found and ended. Idempotent.
    /// - Returns: `false` when the kernel refused.
    @discardableResult
    static func becomeChildSubreaper() -> Bool {
        // prctl(2) is variadic, which Swift cannot call: it is called through a fixed prototype of its five
        // register-sized arguments (the kernel's own calling convention for it).
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") else { return false }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return prctl(LinuxConstant.setChildSubreaper, 1, 0, 0, 0) == 0
    }

    /// `memfd_create(2)`, which the Glibc module does not declare (it is a GNU extension): looked up by name.
    /// - Returns: The descriptor, or -1 (errno set; `ENOSYS` when libc lacks it).
    private static func memfdCreate(_ name: String, _ flags: UInt32) -> Int32 {
        typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else {
            errno = ENOSYS
            return -1
        }
        return name.withCString { unsafeBitCast(symbol, to: MemfdCreate.self)($0, flags) }
    }

    /// Linux ABI constants the Glibc module does not export (`<linux/memfd.h>`, `<linux/fcntl.h>`,
    /// `<linux/prctl.h>`); their values are fixed by the kernel ABI.
    private enum LinuxConstant {
        static let memfdCloseOnExec: UInt32 = 0x0001
        static let memfdAllowSealing: UInt32 = 0x0002
        static let addSeals: Int32 = 1024 + 9
        static let sealSeal: Int32 = 0x0001
        static let sealShrink: Int32 = 0x0002
        static let sealGrow: Int32 = 0x0004
        static let sealWrite: Int32 = 0x0008
        static let setChildSubreaper: Int32 = 36
    }
}
