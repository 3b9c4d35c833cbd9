import Events
import IMDS
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Testing
import Watch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("State store")
struct StateStoreTests {
    @Test func savesAndLoadsState() throws {
        let store = StateStore(directory: PollerHarness.makeTemporaryDirectory() + "/")
        defer { removeTree(store.directory) }
        var state = WatchState()
        state.asg = LifecycleStateRecord(state: "InService", generation: 3)
        state.tags = TagsRecord(tags: ["k": "v"], generation: 1)
        try store.save(state)
        let loaded = store.load(logger: Logger(label: "test"), nowMilliseconds: 0)
        #expect(loaded == state)
        #expect(try listDirectory(store.directory) == ["state.json"])
    }

    @Test func missingFileIsAFirstRun() {
        let handler = InMemoryLogHandler()
        let store = StateStore(directory: PollerHarness.makeTemporaryDirectory())
        defer { removeTree(store.directory) }
        #expect(store.load(logger: Logger(label: "test") { _ in handler }, nowMilliseconds: 0) == WatchState())
        #expect(handler.entries.allSatisfy { $0.level < .warning })
    }

    @Test(arguments: ["", "not json", "{}", "{\"version\": 2}", "[1,2]", "{\"version\": 1, \"spot\": {}}"])
    func unreadableFileIsMovedAsideWithAWarning(content: String) throws {
        let handler = InMemoryLogHandler()
        let store = StateStore(directory: PollerHarness.makeTemporaryDirectory())
        defer { removeTree(store.directory) }
        try writeFile(store.path, content)
        let state = store.load(logger: Logger(label: "test") { _ in handler }, nowMilliseconds: 1_795_000_000_000)
        #expect(state == WatchState())
        #expect(try listDirectory(store.directory) == ["state.json.corrupt-2026-11-18T110640Z"])
        #expect(handler.entries.filter { $0.level == .warning }.count == 1)
        // A second corrupt file at the same second gets its own name.
        try writeFile(store.path, content)
        _ = store.load(logger: Logger(label: "test") { _ in handler }, nowMilliseconds: 1_795_000_000_000)
        #expect(try listDirectory(store.directory).count == 2)
    }

    @Test func saveCreatesTheDirectoryAndReplacesAtomically() throws {
        let parent = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(parent) }
        let store = StateStore(directory: parent + "/state")
        try store.save(WatchState())
        var state = WatchState()
        state.asg.state = "Standby"
        try store.save(state)
        #expect(try listDirectory(store.directory) == ["state.json"])
        #expect(store.load(logger: Logger(label: "test"), nowMilliseconds: 0).asg.state == "Standby")
    }

    @Test func saveFailureIsAnError() {
        let store = StateStore(directory: "/proc/imdswatch-cannot-exist/state")
        #expect(throws: StateStoreError.self) { try store.save(WatchState()) }
    }
}

func writeFile(_ path: String, _ content: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw POSIXFailure(operation: "open \(path)") }
    defer { close(fd) }
    let bytes = Array(content.utf8)
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw POSIXFailure(operation: "write \(path)") }
}

func listDirectory(_ path: String) throws -> [String] {
    guard let directory = opendir(path) else { throw POSIXFailure(operation: "opendir \(path)") }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// Removes a temporary test directory and what is in it (two levels deep at most).
func removeTree(_ path: String, depth: Int = 0) {
    for name in (try? listDirectory(path)) ?? [] {
        let child = path + "/" + name
        if unlink(child) != 0, depth < 2 { removeTree(child, depth: depth + 1) }
    }
    rmdir(path)
}

struct POSIXFailure: Error {
    var operation: String
}
