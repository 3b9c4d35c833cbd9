import Durability
import Events
import InMemoryLogging
import Logging
import Testing
import Watch

#if canImport(Glibc)
    import Glibc
#endif

@Suite("State directory safety")
struct StateDirectorySafetyTests {
    @Test func aStateDirectoryOwnedByAnotherUserIsRefused() throws {
        let parent = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(parent) }
        let store = StateStore(directory: parent + "/state")
        try store.checkSafety(trusted: TrustedPath(trustedUser: 0))
        #expect(chown(parent, 65534, 65534) == 0)
        let error = #expect(throws: StateStoreError.self) {
            try store.checkSafety(trusted: TrustedPath(trustedUser: 0))
        }
        #expect(
            error?.message
                == "refusing to use the state directory \(parent)/state: \(parent) is unsafe: the directory is owned by uid 65534, neither root nor the daemon's user"
        )
    }

    @Test func aMissingStateDirectoryInStickyTmpIsCreatedThenChecked() throws {
        let directory = "/tmp/imdswatch-new-state-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { removeTree(directory) }
        try StateStore(directory: directory).checkSafety(trusted: TrustedPath(trustedUser: 0))
        #expect(SafeFile.kind(of: directory) == .directory)
        // Made by another user first (a race in a sticky parent): theirs, refused.
        #expect(chown(directory, 65534, 65534) == 0)
        #expect(throws: StateStoreError.self) {
            try StateStore(directory: directory).checkSafety(trusted: TrustedPath(trustedUser: 0))
        }
    }

    @Test func aWorldWritableStateDirectoryIsRefused() throws {
        let directory = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(directory) }
        chmod(directory, 0o1777)
        let error = #expect(throws: StateStoreError.self) {
            try StateStore(directory: directory).checkSafety(trusted: TrustedPath(trustedUser: 0))
        }
        #expect(error?.message.contains("writable by its group or by everyone") == true)
    }

    @Test func anOutboxSymlinkIsRefused() throws {
        let directory = PollerHarness.makeTemporaryDirectory()
        let elsewhere = PollerHarness.makeTemporaryDirectory()
        defer {
            removeTree(directory)
            removeTree(elsewhere)
        }
        #expect(symlink(elsewhere, directory + "/outbox") == 0)
        let error = #expect(throws: StateStoreError.self) {
            try StateStore(directory: directory).checkSafety(trusted: TrustedPath(trustedUser: 0))
        }
        #expect(
            error?.message
                == "refusing to use the state directory \(directory): \(directory)/outbox is a symlink, not a directory"
        )
    }

    @Test func aJournalSymlinkIsRefused() throws {
        let directory = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(directory) }
        try writeFile(directory + "/victim", "precious")
        #expect(symlink(directory + "/victim", directory + "/" + EventJournal.fileName) == 0)
        let error = #expect(throws: StateStoreError.self) {
            try StateStore(directory: directory).checkSafety(trusted: TrustedPath(trustedUser: 0))
        }
        #expect(
            error?.message
                == "refusing to use the state directory \(directory): \(directory)/events.journal is a symlink, not a regular file"
        )
    }

    @Test func aSymlinkPlantedAtTheStateFileIsReplacedNotFollowed() throws {
        let directory = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(directory) }
        try writeFile(directory + "/victim", "precious")
        #expect(symlink(directory + "/victim", directory + "/state.json") == 0)
        #expect(symlink(directory + "/victim", directory + "/state.json.tmp") == 0)
        let store = StateStore(directory: directory)
        #expect(throws: StateStoreError.self) { try store.checkSafety(trusted: TrustedPath(trustedUser: 0)) }

        try store.save(WatchState())

        #expect(try readFile(directory + "/victim") == "precious")
        #expect(SafeFile.kind(of: store.path) == .regular)
    }

    @Test func aFIFOAtTheStateFileNeitherHangsNorIsRead() throws {
        let directory = PollerHarness.makeTemporaryDirectory()
        defer { removeTree(directory) }
        let store = StateStore(directory: directory)
        #expect(mkfifo(store.path, 0o600) == 0)
        let handler = InMemoryLogHandler()

        let state = store.load(logger: Logger(label: "test") { _ in handler }, nowMilliseconds: 1_795_000_000_000)

        #expect(state == WatchState())
        #expect(
            handler.entries.contains { $0.level == .warning && "\($0.message)".contains("not a regular file (FIFO)") })
        try store.save(WatchState())
        #expect(SafeFile.kind(of: store.path) == .regular)
    }
}

private func readFile(_ path: String) throws -> String {
    String(decoding: try SafeFile.readRegularFile(path, limit: 1000), as: UTF8.self)
}
