/// Small files in the state directory written crash-safely, for other modules (the lifecycle actions' record);
/// one implementation of the atomic write, ``StateFileSystem``.
public enum DurableStateFile {
    /// Reads `directory/name`.
    /// - Returns: Its bytes, or `nil` when it does not exist.
    /// - Throws: A one-line message naming the file and the cause (unreadable, larger than `limit`).
    public static func read(directory: String, name: String, limit: Int = 1 << 20) throws(DurableStateFileError) -> [UInt8]? {
        do {
            return try StateFileSystem.readFile(directory + "/" + name, limit: limit)
        } catch where error.isNotFound {
            return nil
        } catch {
            throw DurableStateFileError(message: "cannot read \(directory)/\(name): \(error)")
        }
    }

    /// Replaces `directory/name` with `bytes` (mode 0600) atomically and durably; creates the directory (0700)
    /// when its parent exists.
    /// - Throws: A one-line message naming the file and the failed step.
    public static func write(_ bytes: [UInt8], directory: String, name: String) throws(DurableStateFileError) {
        do {
            if !StateFileSystem.exists(directory) { try StateFileSystem.makeDirectory(directory) }
            try StateFileSystem.writeAtomically(bytes, to: directory + "/" + name, directory: directory)
        } catch {
            throw DurableStateFileError(message: "cannot write \(directory)/\(name): \(error)")
        }
    }

    /// The wall-clock time in milliseconds since the Unix epoch.
    public static func wallClockMilliseconds() -> Int64 {
        StateFileSystem.wallClockMilliseconds()
    }
}

/// A state file that could not be read or written.
public struct DurableStateFileError: Error, Sendable, CustomStringConvertible {
    /// The file, the step and `strerror`.
    public var message: String
    public var description: String { message }

    /// Creates an error with its one-line message.
    public init(message: String) {
        self.message = message
    }
}
