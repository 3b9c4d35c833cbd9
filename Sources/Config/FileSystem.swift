import Durability
import Events

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The few file calls the Config module needs, with errno turned into a message.
enum FileSystem {
    /// A failed file operation.
    struct Failure: Error {
        /// The cause, e.g. `no such file or directory`.
        var message: String
    }

    /// The largest config file read (1 MiB); a bigger one is surely a mistake.
    static let maximumSize = 1 << 20

    /// Whether `path` names an existing file (or anything else that `stat` finds).
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Reads a whole regular file as UTF-8 text (invalid sequences are repaired), through the one file reader
    /// (`SafeFile`: a FIFO or device is refused at once, never waited on; a symlink is followed).
    /// - Throws: ``Failure`` when it cannot be opened or read, is not a regular file, or is over ``maximumSize``.
    static func readText(_ path: String) throws(Failure) -> String {
        do {
            let bytes = try SafeFile.readRegularFileFollowingSymlink(path, limit: maximumSize).bytes
            return String(decoding: bytes, as: UTF8.self)
        } catch {
            throw Failure(
                message: error.errno == EFBIG
                    ? "larger than 1 MiB" : error.reason ?? SystemCall.describe(errno: error.errno))
        }
    }
}
