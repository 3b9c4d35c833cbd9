import Durability
import Events
import Foundation
import Telemetry
import Testing

/// The textfile's directory gets the state directory's trust walk (``TrustedPath``) before the daemon writes there.
@Suite struct TextfileDirectoryTests {
    /// A root-owned 0755 scratch directory under /tmp.
    private static func scratch() throws -> String {
        var template = Array("/tmp/imdswatch-textfile-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let path = String(cString: try #require(created))
        chmod(path, 0o755)
        return path
    }

    @Test func aDirectoryReachedThroughAnotherUsersSymlinkIsRefusedNamingIt() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/real", withIntermediateDirectories: false)
        chmod(base + "/real", 0o755)
        #expect(symlink(base + "/real", base + "/link") == 0)
        #expect(lchown(base + "/link", 65534, 65534) == 0)

        let error = #expect(throws: MetricsTextfileError.self) {
            try MetricsTextfileError.checkDirectory(of: base + "/link/imdswatch.prom")
        }
        #expect(
            error?.message
                == "refusing to write the metrics textfile \(base)/link/imdswatch.prom: \(base)/link is unsafe: "
                + "the symlink is owned by uid 65534, neither root nor the daemon's user")
        #expect(error.map { !$0.message.contains("\n") } == true)
    }

    @Test func aDirectoryAnotherUserOwnsOrCanWriteIsRefused() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        for name in ["theirs", "open"] {
            try FileManager.default.createDirectory(atPath: base + "/" + name, withIntermediateDirectories: false)
        }
        #expect(chown(base + "/theirs", 65534, 65534) == 0)
        chmod(base + "/open", 0o777)

        #expect(throws: MetricsTextfileError.self) {
            try MetricsTextfileError.checkDirectory(of: base + "/theirs/x.prom")
        }
        #expect(throws: MetricsTextfileError.self) {
            try MetricsTextfileError.checkDirectory(of: base + "/open/x.prom")
        }
        // A missing directory is judged by its nearest existing ancestor: theirs.
        #expect(throws: MetricsTextfileError.self) {
            try MetricsTextfileError.checkDirectory(of: base + "/theirs/sub/x.prom")
        }
    }

    @Test func aRootOwnedDirectoryIsAccepted() throws {
        let base = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        try MetricsTextfileError.checkDirectory(of: base + "/imdswatch.prom")
        try MetricsTextfileError.checkDirectory(of: base + "/not-yet/imdswatch.prom")
    }
}
