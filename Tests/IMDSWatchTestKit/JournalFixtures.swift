import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Helpers for tests that need a real systemd-journald or a real `$NOTIFY_SOCKET`.
///
/// `ensureJournald()` starts a private journald when none answers on `/run/systemd/journal/socket` (the machine's
/// journald, when there is one, is used as it is); `entries(matching:)` reads entries back with
/// `journalctl -o json`. ``NotifySocketListener`` binds a datagram socket and collects sd_notify messages.
package enum JournalFixtures {
    /// Where journald takes native-protocol entries.
    package static let journalSocketPath = "/run/systemd/journal/socket"
    /// The journald binary on Debian and Ubuntu.
    package static let journaldPath = "/lib/systemd/systemd-journald"

    /// Failures of the fixtures; tests fail on them rather than skip.
    package struct FixtureError: Error, CustomStringConvertible, Sendable {
        /// What went wrong.
        package let description: String
        /// Creates an error.
        package init(_ description: String) { self.description = description }
    }

    /// Makes sure a journald answers on ``journalSocketPath``, starting `/lib/systemd/systemd-journald` when none
    /// does. Concurrent callers (parallel tests, other test processes) serialize on a lock file, so at most one
    /// journald is started.
    /// - Parameter timeout: How long to wait for a started journald to answer.
    /// - Throws: ``FixtureError`` when no journald answers in time.
    package static func ensureJournald(timeout: Duration = .seconds(20)) throws {
        if journaldAnswers() { return }
        try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
        let lock = open("/run/systemd/journal/.imdswatch-test-start.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw FixtureError("cannot open journald start lock: errno \(errno)") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FixtureError("cannot lock journald start lock: errno \(errno)") }
        }
        defer { flock(lock, LOCK_UN) }
        if journaldAnswers() { return }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: journaldPath)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw FixtureError("cannot start \(journaldPath): \(error)")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if journaldAnswers() { return }
            if !process.isRunning {
                throw FixtureError("\(journaldPath) exited with status \(process.terminationStatus)")
            }
            usleep(50_000)
        }
        throw FixtureError("journald did not answer on \(journalSocketPath) within \(timeout)")
    }

    /// Whether a process is bound to ``journalSocketPath`` (a datagram `connect` succeeds only then).
    package static func journaldAnswers() -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard var address = UnixAddress.make(journalSocketPath) else { return false }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, length) }
        }
        return result == 0
    }

    /// Reads journal entries with `journalctl -o json MATCH...`, retrying until at least `minimumCount` entries
    /// are there or `timeout` passes (journald writes asynchronously).
    /// - Parameters:
    ///   - matches: journalctl matches such as `IMDSWATCH_TEST_ID=…` or `--identifier=imdswatch`.
    ///   - minimumCount: How many entries to wait for.
    ///   - timeout: How long to wait.
    /// - Returns: The entries, oldest first; fewer than `minimumCount` if the timeout passed.
    /// - Throws: ``FixtureError`` when journalctl fails or prints something other than JSON lines.
    package static func entries(
        matching matches: [String],
        minimumCount: Int = 1,
        timeout: Duration = .seconds(10)
    ) throws -> [JournalRecord] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let found = try readEntries(matching: matches)
            if found.count >= minimumCount || ContinuousClock.now >= deadline { return found }
            usleep(100_000)
        }
    }

    /// One `journalctl -o json --no-pager --all` run.
    static func readEntries(matching matches: [String]) throws -> [JournalRecord] {
        let result = try run("/usr/bin/journalctl", ["-o", "json", "--no-pager", "--all", "-q"] + matches)
        guard result.status == 0 || result.output.isEmpty else {
            throw FixtureError("journalctl exited \(result.status)")
        }
        var records: [JournalRecord] = []
        for line in result.output.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw FixtureError("journalctl printed a line that is not a JSON object")
            }
            records.append(JournalRecord(json: object))
        }
        return records
    }

    /// Runs a program to completion, returning its stdout and exit status (stderr goes to /dev/null).
    /// - Parameters:
    ///   - executable: Absolute path.
    ///   - arguments: Arguments.
    ///   - environment: The environment, or `nil` for this process's.
    /// - Returns: The exit status, stdout and stderr.
    /// - Throws: ``FixtureError`` when the program cannot be started.
    package static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil
    ) throws -> (status: Int32, output: Data, errors: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw FixtureError("cannot run \(executable): \(error)")
        }
        // Read both pipes concurrently so neither can fill up and block the child.
        let errorData = ErrorCollector()
        let reader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, outputData, errorData.wait())
    }
}

/// Collects stderr on a helper thread for ``JournalFixtures/run(_:_:environment:)``.
private final class ErrorCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data?

    func set(_ value: Data) {
        condition.lock()
        data = value
        condition.signal()
        condition.unlock()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data ?? Data()
    }
}

/// One journal entry as `journalctl -o json` prints it, with every value decoded to text.
package struct JournalRecord: Sendable, Hashable {
    /// Field name to its first value (see ``allValues`` for repeated fields).
    package let fields: [String: String]
    /// Every value of every field (journal fields may repeat).
    package let allValues: [String: [String]]

    /// Decodes journalctl's JSON: strings, byte arrays (for values with control characters or non-UTF-8), and
    /// arrays of either for repeated fields.
    init(json: [String: Any]) {
        var all: [String: [String]] = [:]
        for (name, raw) in json {
            all[name] = Self.values(raw)
        }
        self.allValues = all
        self.fields = all.compactMapValues { $0.first }
    }

    /// The first value of `name`.
    package subscript(_ name: String) -> String? { fields[name] }

    private static func values(_ raw: Any) -> [String] {
        if let string = raw as? String { return [string] }
        if let bytes = raw as? [Int] {
            return [String(decoding: bytes.map { UInt8(truncatingIfNeeded: $0) }, as: UTF8.self)]
        }
        if let list = raw as? [Any] { return list.flatMap { values($0) } }
        if raw is NSNull { return [] }
        return [String(describing: raw)]
    }
}

/// A bound `AF_UNIX` datagram socket standing in for systemd's `$NOTIFY_SOCKET`.
///
/// Put ``path`` into the environment given to `SystemdNotifier(environment:)` and read what arrives with
/// ``receive(timeout:)``. The socket file lives in a fresh temporary directory, removed on deinit.
package final class NotifySocketListener: Sendable {
    /// The socket's path: the value for `NOTIFY_SOCKET`.
    package let path: String
    private let directory: String
    private let descriptor: Int32

    /// Binds a new socket.
    /// - Throws: ``JournalFixtures/FixtureError`` when the socket cannot be created or bound.
    package init() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("imdswatch-notify-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/notify.sock"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw JournalFixtures.FixtureError("socket: errno \(errno)") }
        guard var address = UnixAddress.make(path) else {
            close(descriptor)
            throw JournalFixtures.FixtureError("socket path too long: \(path)")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let number = errno
            close(descriptor)
            throw JournalFixtures.FixtureError("bind \(path): errno \(number)")
        }
        self.path = path
        self.directory = directory
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The environment that points a notifier at this socket.
    package var environment: [String: String] { ["NOTIFY_SOCKET": path] }

    /// Waits for one datagram.
    /// - Parameter timeout: How long to wait.
    /// - Returns: The datagram's text, or `nil` when none arrived in time.
    package func receive(timeout: Duration) -> String? {
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&pollDescriptor, 1, milliseconds)
        guard ready > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }

    /// Waits for one datagram without blocking a thread of the cooperative pool (it polls every 10 ms), for
    /// async tests in which the sender is another task.
    /// - Parameter timeout: How long to wait.
    /// - Returns: The datagram's text, or `nil` when none arrived in time.
    package func next(timeout: Duration) async -> String? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let message = receive(timeout: .zero) { return message }
            guard ContinuousClock.now < deadline else { return nil }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return nil
            }
        }
    }

    /// Every datagram that arrives until none has come for `quiet`.
    /// - Parameter quiet: How long a silence ends the collection.
    /// - Returns: The datagrams in order of arrival.
    package func drain(quiet: Duration = .milliseconds(200)) -> [String] {
        var messages: [String] = []
        while let message = receive(timeout: quiet) { messages.append(message) }
        return messages
    }
}

/// Builds a `sockaddr_un` for a filesystem path.
enum UnixAddress {
    static func make(_ path: String) -> sockaddr_un? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return address
    }
}
