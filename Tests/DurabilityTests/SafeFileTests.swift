import Durability
import Foundation
import Testing

/// A fresh directory under /tmp (root-owned, sticky: safe for root-owned entries), mode 0700, removed by `remove()`.
private struct Scratch {
    let path: String

    init(mode: mode_t = 0o700) throws {
        var template = Array("/tmp/imdswatch-safefile-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: try #require(created))
        chmod(path, mode)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

@Suite struct SafeFileTests {
    @Test func writeNeverFollowsASymlinkPlantedAtTheTarget() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let victim = dir.path + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir.path + "/state.json") == 0)

        try SafeFile.writeDurably(Array("{}".utf8), directory: dir.path, name: "state.json")

        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(SafeFile.kind(of: dir.path + "/state.json") == .regular)
        #expect(try SafeFile.readRegularFile(dir.path + "/state.json", limit: 100) == Array("{}".utf8))
    }

    @Test func temporaryNamesAreRandomAndLeaveNothingBehind() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        // The old fixed name: a link there must stay untouched (the new name is random and O_EXCL).
        let victim = dir.path + "/victim"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, dir.path + "/state.json.tmp") == 0)
        #expect(symlink(victim, dir.path + "/.state.json.tmp") == 0)

        for round in 0..<3 {
            try SafeFile.writeDurably(Array("\(round)".utf8), directory: dir.path, name: "state.json")
        }

        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        let names = try SafeFile.entries(of: dir.path)
        #expect(names == [".state.json.tmp", "state.json", "state.json.tmp", "victim"])
    }

    @Test func readRefusesSymlinksAndFIFOsWithoutBlocking() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        #expect(symlink("/etc/hostname", dir.path + "/link") == 0)

        let fifo = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFile(dir.path + "/fifo", limit: 10)
        }
        #expect(fifo?.description == "cannot read \(dir.path)/fifo: not a regular file (FIFO)")
        let link = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFile(dir.path + "/link", limit: 10)
        }
        #expect(link?.description.contains("symlink") == true)
        let missing = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFile(dir.path + "/none", limit: 10)
        }
        #expect(missing?.isNotFound == true)
        #expect(missing?.description == "cannot read \(dir.path)/none: no such file or directory")
    }

    @Test func readIfPresentIsNilOnlyWhenNothingIsThere() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        #expect(try SafeFile.readRegularFileIfPresent(dir.path + "/none", limit: 10) == nil)
        #expect(try SafeFile.readRegularFileIfPresent(dir.path + "/no-dir/none", limit: 10) == nil)
        try SafeFile.writeDurably(Array("{}".utf8), directory: dir.path, name: "state.json")
        #expect(try SafeFile.readRegularFileIfPresent(dir.path + "/state.json", limit: 10) == Array("{}".utf8))

        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        #expect(symlink(dir.path + "/none", dir.path + "/dangling") == 0)
        let fifo = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFileIfPresent(dir.path + "/fifo", limit: 10)
        }
        #expect(fifo?.reason == "not a regular file (FIFO)")
        let link = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFileIfPresent(dir.path + "/dangling", limit: 10)
        }
        #expect(link?.description.contains("symlink") == true)
        let large = #expect(throws: SafeFile.Failure.self) {
            try SafeFile.readRegularFileIfPresent(dir.path + "/state.json", limit: 1)
        }
        #expect(large?.errno == EFBIG)
    }

    @Test func writeAllWritesEveryByteAndReportsErrno() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let bytes = [UInt8](repeating: 0x61, count: 1000)
        #expect(SystemCall.writeAll(ends[1], bytes) == 0)
        close(ends[1])
        var received = [UInt8](repeating: 0, count: 2000)
        let count = received.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
        #expect(count == 1000)
        #expect(SystemCall.writeAll(-1, bytes) == EBADF)
        let (value, code) = SystemCall.retryingOnInterrupt { close(-1) }
        #expect(value == -1 && code == EBADF)
    }

    /// The seam every SafeFile call (open, read, write, fsync, rename) goes through: a call failing with EINTR is
    /// made again, any other errno is returned at once.
    @Test func retryingOnInterruptRepeatsOnlyInterruptedCalls() {
        var calls = 0
        let interrupted = SystemCall.retryingOnInterrupt { () -> Int32 in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 7
        }
        #expect(interrupted.value == 7 && interrupted.errno == 0)
        #expect(calls == 3)
        calls = 0
        let failed = SystemCall.retryingOnInterrupt { () -> Int32 in
            calls += 1
            errno = EIO
            return -1
        }
        #expect(failed.value == -1 && failed.errno == EIO)
        #expect(calls == 1)
    }

    @Test func errnoTextIsLowerCaseStrerror() {
        #expect(SystemCall.describe(errno: ENOENT) == "no such file or directory")
        #expect(SystemCall.describe(errno: EMFILE) == "too many open files")
        #expect(!SystemCall.describe(errno: 99_999).isEmpty)
    }

    @Test func makeDirectoryRefusesASymlink() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let elsewhere = try Scratch()
        defer { elsewhere.remove() }
        #expect(symlink(elsewhere.path, dir.path + "/outbox") == 0)
        let error = #expect(throws: SafeFile.Failure.self) { try SafeFile.makeDirectory(dir.path + "/outbox") }
        #expect(error?.description == "cannot use directory \(dir.path)/outbox: it is a symlink, not a directory")
    }
}

@Suite struct TrustedPathTests {
    @Test func rootOwnedPathsUnderStickyTmpAreTrusted() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        #expect(TrustedPath(trustedUser: 0).problem(withDirectory: dir.path) == nil)
        #expect(TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/not-yet/created") == nil)
    }

    @Test func aDirectoryOwnedByAnotherUserIsRefused() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        #expect(chown(dir.path, 65534, 65534) == 0)
        let problem = TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/state")
        #expect(
            problem == "\(dir.path) is unsafe: the directory is owned by uid 65534, neither root nor the daemon's user")
        // The daemon's own user is trusted.
        #expect(TrustedPath(trustedUser: 65534).problem(withDirectory: dir.path + "/state") == nil)
    }

    @Test func aWritableAncestorWithoutTheStickyBitIsRefused() throws {
        let dir = try Scratch(mode: 0o777)
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/state", withIntermediateDirectories: false)
        chmod(dir.path + "/state", 0o700)
        let problem = TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/state")
        #expect(
            problem?.hasPrefix("\(dir.path) is unsafe: the directory is writable by its group or by everyone") == true)
        // With the sticky bit (like /tmp) its root-owned entries are safe, but it is not safe itself.
        chmod(dir.path, 0o1777)
        #expect(TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/state") == nil)
        #expect(TrustedPath(trustedUser: 0).problem(withDirectory: dir.path) != nil)
    }

    @Test func aSymlinkOwnedByAnotherUserIsRefusedAndItsTargetJudged() throws {
        let dir = try Scratch(mode: 0o1777)
        defer { dir.remove() }
        let target = try Scratch()
        defer { target.remove() }
        #expect(symlink(target.path, dir.path + "/link") == 0)
        #expect(TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/link") == nil)
        #expect(lchown(dir.path + "/link", 65534, 65534) == 0)
        let problem = TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/link")
        #expect(
            problem
                == "\(dir.path)/link is unsafe: the symlink is owned by uid 65534, neither root nor the daemon's user")
        // The target is judged, not the link.
        #expect(lchown(dir.path + "/link", 0, 0) == 0)
        #expect(chown(target.path, 65534, 65534) == 0)
        #expect(
            TrustedPath(trustedUser: 0).problem(withDirectory: dir.path + "/link")?.contains("owned by uid 65534")
                == true)
    }
}
