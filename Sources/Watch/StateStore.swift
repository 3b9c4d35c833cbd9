import Durability
import Events
import Logging

/// The persisted watch state: `state.json` in the state directory, written atomically.
///
/// A file that cannot be read or parsed is moved aside as `state.json.corrupt-<UTC time>` with a warning, and the
/// run continues as a first run (an occurrence may then fire twice: better twice than never).
package struct StateStore: Sendable {
    /// State files larger than this are treated as corrupt.
    package static let maxFileBytes = 4 << 20

    /// The state directory (`--state-dir`).
    package let directory: String
    /// The file name inside ``directory``.
    package let fileName: String

    /// Creates a store; touches nothing until ``load(logger:nowMilliseconds:)`` or ``save(_:)``.
    /// - Parameters:
    ///   - directory: The state directory; created (mode 0700) on the first save when its parent exists.
    ///   - fileName: The file name, `state.json` by default.
    package init(directory: String, fileName: String = "state.json") {
        var trimmed = directory
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.directory = trimmed.isEmpty ? "." : trimmed
        self.fileName = fileName
    }

    /// The state file's path.
    package var path: String { directory == "/" ? "/" + fileName : directory + "/" + fileName }

    /// Reads the persisted state.
    /// - Parameters:
    ///   - logger: Receives an info line on a first run and a warning when the file is moved aside.
    ///   - nowMilliseconds: The wall-clock time, for the moved-aside file's name.
    /// - Returns: The persisted state, or an empty state (a first run) when there is no usable file. Never throws.
    package func load(logger: Logger, nowMilliseconds: Int64) -> WatchState {
        let bytes: [UInt8]
        do throws(SafeFile.Failure) {
            guard let read = try SafeFile.readRegularFileIfPresent(path, limit: Self.maxFileBytes) else {
                logger.info("no state file yet: first run", metadata: ["path": "\(path)"])
                return WatchState()
            }
            bytes = read
        } catch {
            moveAside(reason: "cannot be read (\(error))", logger: logger, nowMilliseconds: nowMilliseconds)
            return WatchState()
        }
        do {
            let json = try JSONDocument.parse(String(decoding: bytes, as: UTF8.self))
            let state = try WatchState(json: json)
            logger.debug("loaded state", metadata: ["path": "\(path)"])
            return state
        } catch let error as JSONDocument.SyntaxError {
            moveAside(reason: "is not valid JSON (\(error))", logger: logger, nowMilliseconds: nowMilliseconds)
        } catch let error as StateFormatError {
            moveAside(reason: "is not a valid state (\(error))", logger: logger, nowMilliseconds: nowMilliseconds)
        } catch {
            moveAside(reason: "cannot be parsed (\(error))", logger: logger, nowMilliseconds: nowMilliseconds)
        }
        return WatchState()
    }

    /// Writes the state atomically (temporary file in the same directory, fsync, rename, fsync of the directory).
    /// - Parameter state: The state to persist.
    /// - Throws: ``StateStoreError`` naming the failed operation; the previous file is then left intact.
    package func save(_ state: WatchState) throws(StateStoreError) {
        var bytes = Array(state.json.serialized().utf8)
        bytes.append(UInt8(ascii: "\n"))
        do {
            try SafeFile.makeDirectory(directory)
            try SafeFile.writeDurably(bytes, directory: directory, name: fileName)
        } catch {
            throw StateStoreError(message: "cannot save state to \(path): \(error)")
        }
    }

    private func moveAside(reason: String, logger: Logger, nowMilliseconds: Int64) {
        do {
            let target = try SafeFile.moveAside(
                directory: directory, fileName: fileName, nowMilliseconds: nowMilliseconds)
            logger.warning(
                "state file \(reason): moved it aside and starting as a first run (an event may fire again)",
                metadata: ["path": "\(path)", "moved_to": "\(target)"]
            )
        } catch {
            logger.warning(
                "state file \(reason) and could not be moved aside (\(error)): starting as a first run (an event may fire again)",
                metadata: ["path": "\(path)"]
            )
        }
    }
}

/// A state file could not be written.
package struct StateStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed, with the path and the system's reason.
    package var message: String

    package var description: String { message }
}

extension StateStore {
    /// Checks, before the daemon starts, that nobody but root and the daemon's user can change the state directory:
    /// the directory and every ancestor (see ``TrustedPath``), and that `outbox`, `hooks-pending`, the event journal and
    /// the state file are not symlinks (the files are also opened with `O_NOFOLLOW` every time; this turns a planted link into a
    /// clear refusal).
    /// - Parameter trusted: The walker (trusting root and the effective user by default).
    /// - Throws: ``StateStoreError`` with one sentence naming the path at fault. The directory is created (mode 0700)
    ///   when its parent exists; otherwise it is judged by its nearest existing ancestor.
    package func checkSafety(trusted: TrustedPath = TrustedPath()) throws(StateStoreError) {
        // Created first when its parent exists (as the first save would), so that the check sees the real directory:
        // one another user made in a sticky parent in the meantime is then theirs, and refused.
        try? SafeFile.makeDirectory(directory)
        if let problem = trusted.problem(withDirectory: directory) {
            throw StateStoreError(message: "refusing to use the state directory \(directory): \(problem)")
        }
        for name in [fileName, EventJournal.fileName, "outbox", "hooks-pending"] {
            let path = directory == "/" ? "/" + name : directory + "/" + name
            guard let kind = SafeFile.kind(of: path) else { continue }
            let isFile = name == fileName || name == EventJournal.fileName
            let expected: FileKind = isFile ? .regular : .directory
            if kind == .symlink || (kind != expected && !isFile) {
                throw StateStoreError(
                    message: "refusing to use the state directory \(directory): \(path) is a \(kind), not a \(expected)"
                )
            }
        }
    }
}
