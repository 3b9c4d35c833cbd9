import Durability
import Foundation

/// One embedded example hook: its path relative to `hooks.d/` and its exact contents.
struct ExampleHook: Sendable, Equatable {
    /// Relative to `hooks.d/`, with the `.example` suffix (`spot-interruption.d/10-stop-services.example`).
    var path: String
    /// The script, byte for byte as in the source tree.
    var contents: [UInt8]

    /// The path the demo enables it under: the `.example` suffix dropped.
    var enabledPath: String {
        path.hasSuffix(".example") ? String(path.dropLast(".example".count)) : path
    }

    /// The name it runs under (the file name of ``enabledPath``), as in the log's `IMDSWATCH_HOOK`.
    var name: String {
        enabledPath.split(separator: "/").last.map(String.init) ?? enabledPath
    }
}

/// The demo's private temporary directory: the enabled example hooks, the fake commands first on the hooks'
/// PATH, the state directory, the event files, the log and the record of the fakes' calls. Nothing the demo
/// does touches anything outside it.
struct DemoWorkspace: Sendable {
    /// The directory itself (`$TMPDIR/imdswatch-demo-XXXXXX`).
    let root: String

    /// `hooks.d`: the example hooks, enabled.
    var hooksDir: String { root + "/hooks.d" }
    /// The fakes (`systemctl`, `docker`, `aws`, `wall`, `logger`, `imdswatch`), first on the hooks' PATH.
    var binDir: String { root + "/bin" }
    /// The watcher's state directory.
    var stateDir: String { root + "/state" }
    /// Where event files for the hooks are written.
    var eventsDir: String { root + "/events" }
    /// Every log line of the watcher and the hooks.
    var logFile: String { root + "/imdswatch.log" }
    /// One line per call of a fake command: `EVENT_ID<TAB>command line`.
    var callsFile: String { root + "/calls.log" }

    /// Creates the directory (mode 0700) and everything in it.
    /// - Parameters:
    ///   - hooks: The example hooks to enable.
    ///   - realBinary: The `imdswatch` binary the `imdswatch` fake hands `get` calls to.
    /// - Throws: ``DemoError`` or a Foundation error when a file cannot be written (the directory is then removed).
    static func create(hooks: [ExampleHook], realBinary: String) throws -> DemoWorkspace {
        let workspace = DemoWorkspace(root: try makeTemporaryDirectory())
        do {
            try workspace.populate(hooks: hooks, realBinary: realBinary)
        } catch {
            workspace.remove()
            throw error
        }
        return workspace
    }

    /// Removes the directory and everything in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func populate(hooks: [ExampleHook], realBinary: String) throws {
        for directory in [hooksDir, binDir, stateDir, eventsDir] {
            try makeDirectory(directory)
        }
        for hook in hooks {
            let path = hooksDir + "/" + hook.enabledPath
            try makeDirectory((path as NSString).deletingLastPathComponent)
            try write(Data(hook.contents), to: path, mode: 0o755)
        }
        for fake in DemoFakes.all(callsFile: callsFile, realBinary: realBinary) {
            try write(Data(fake.script.utf8), to: binDir + "/" + fake.name, mode: 0o755)
        }
        try write(Data(), to: callsFile, mode: 0o600)
        try write(Data(), to: logFile, mode: 0o600)
    }

    private func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        // Hooks in a group- or world-writable directory are skipped as unsafe: set the mode whatever the umask.
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }

    private func write(_ data: Data, to path: String, mode: Int) throws {
        try data.write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// `mkdtemp` under `$TMPDIR` (or `/tmp`): a new directory only this user can enter.
    private static func makeTemporaryDirectory() throws -> String {
        var base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        if base.isEmpty { base = "/tmp" }
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/imdswatch-demo-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let address = buffer.baseAddress else { return false }
            return mkdtemp(address) != nil
        }
        guard created else {
            throw DemoError("cannot create a temporary directory in \(base): \(SystemCall.describe(errno: errno))")
        }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why the demo could not run, in one line.
package struct DemoError: Error, Sendable, CustomStringConvertible {
    /// The message.
    package var description: String

    /// Creates an error with this message.
    init(_ description: String) {
        self.description = description
    }
}
