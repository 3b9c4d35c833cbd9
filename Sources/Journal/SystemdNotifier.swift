import Durability
import Events
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Tells systemd about the service's state through `$NOTIFY_SOCKET` (`Type=notify`, `WatchdogSec=`).
///
/// A value read from the environment once; safe to copy and share. Without `$NOTIFY_SOCKET` (not started by
/// systemd, or `NotifyAccess=none`) every call does nothing and returns `false`.
package struct SystemdNotifier: Sendable, Hashable {
    /// `$NOTIFY_SOCKET`, or `nil` when notifications are off.
    package let socketAddress: String?
    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when that is set and `$WATCHDOG_PID` is unset or
    /// names this process; `nil` when systemd expects no watchdog pings.
    package let watchdogInterval: Duration?

    /// Reads the notification settings from an environment.
    /// - Parameters:
    ///   - environment: The process environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`).
    ///   - processID: This process's id, compared with `$WATCHDOG_PID`.
    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid()
    ) {
        let address = environment["NOTIFY_SOCKET"] ?? ""
        self.socketAddress = address.isEmpty ? nil : address
        self.watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
    }

    /// The variables systemd sets for the main process only. Remove them from the environment of child
    /// processes (hooks), so a notify-aware child does not talk to systemd on the service's behalf.
    package static let environmentVariables: Set<String> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]

    /// A pinger for ``watchdogInterval``, or `nil` when systemd expects no pings (no `WatchdogSec=`) or
    /// notifications are off.
    /// - Parameters:
    ///   - heartbeat: The liveness signal the poll loop bumps after each poll.
    ///   - logger: Where failed pings are reported.
    /// - Returns: The pinger to run for the lifetime of the service.
    package func watchdogPinger(heartbeat: Heartbeat, logger: Logger) -> WatchdogPinger? {
        guard isEnabled, let watchdogInterval else { return nil }
        return WatchdogPinger(notifier: self, heartbeat: heartbeat, interval: watchdogInterval, logger: logger)
    }

    /// Whether notifications go anywhere.
    package var isEnabled: Bool { socketAddress != nil }

    /// Sends `READY=1`: start-up is complete. With `status`, sends `STATUS=` in the same datagram.
    /// - Parameter status: An optional status line.
    /// - Returns: Whether a notification was sent (`false` without `$NOTIFY_SOCKET`).
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func ready(status: String? = nil) throws(JournalError) -> Bool {
        try send(["READY=1"] + (status.map { [Self.statusAssignment($0)] } ?? []))
    }

    /// Sends `STATUS=line`, shown by `systemctl status`. Newlines in `line` become spaces.
    /// - Parameter line: The status line.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func status(_ line: String) throws(JournalError) -> Bool {
        try send([Self.statusAssignment(line)])
    }

    /// Sends `WATCHDOG=1`: the service is alive. Prefer ``WatchdogPinger``, which sends it only while a
    /// ``Heartbeat`` advances.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func watchdog() throws(JournalError) -> Bool {
        try send(["WATCHDOG=1"])
    }

    /// Sends `RELOADING=1` with `MONOTONIC_USEC=` (now on `CLOCK_MONOTONIC`, as sd_notify(3) requires): a reload
    /// of the configuration has begun. Send ``ready(status:)`` when it is done, whether it changed anything or not.
    /// - Parameter monotonicMicroseconds: `CLOCK_MONOTONIC` in microseconds (default: now).
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func reloading(monotonicMicroseconds: UInt64 = SystemdNotifier.monotonicMicroseconds()) throws(JournalError)
        -> Bool
    {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)"])
    }

    /// `CLOCK_MONOTONIC` now, in microseconds (the clock systemd compares `MONOTONIC_USEC=` with).
    package static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// Sends `STOPPING=1`: shutdown has begun.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func stopping() throws(JournalError) -> Bool {
        try send(["STOPPING=1"])
    }

    /// Sends arbitrary `VAR=value` assignments in one datagram (see sd_notify(3)).
    /// - Parameter assignments: Lines such as `READY=1`; each must not contain a newline.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    package func send(_ assignments: [String]) throws(JournalError) -> Bool {
        guard let socketAddress else { return false }
        try NotifyDatagram.send(assignments.joined(separator: "\n"), to: socketAddress)
        return true
    }

    static func statusAssignment(_ line: String) -> String {
        "STATUS=" + String(line.map { $0.isNewline ? " " : $0 })
    }

    static func watchdogInterval(environment: [String: String], processID: Int32) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else {
            return nil
        }
        if let pidText = environment["WATCHDOG_PID"], !pidText.isEmpty {
            guard let pid = Int32(pidText), pid == processID else { return nil }
        }
        return .microseconds(microseconds / 2)
    }
}

/// Sends `WATCHDOG=1` every ``interval`` while a ``Heartbeat`` keeps advancing.
///
/// At each tick it pings only if the heartbeat moved since the previous tick; a stalled poll loop therefore
/// stops the pings, and after `WatchdogSec=` systemd kills and restarts the service.
package struct WatchdogPinger: Sendable {
    /// Where the pings go.
    package let notifier: SystemdNotifier
    /// The liveness signal.
    package let heartbeat: Heartbeat
    /// The time between ticks, usually ``SystemdNotifier/watchdogInterval``.
    package let interval: Duration
    /// Where failed pings are reported.
    package let logger: Logger

    /// Creates a pinger.
    /// - Parameters:
    ///   - notifier: Where the pings go.
    ///   - heartbeat: The liveness signal.
    ///   - interval: The time between ticks.
    ///   - logger: Where failed pings are reported (at warning).
    package init(notifier: SystemdNotifier, heartbeat: Heartbeat, interval: Duration, logger: Logger) {
        self.notifier = notifier
        self.heartbeat = heartbeat
        self.interval = interval
        self.logger = logger
    }

    /// Ticks until the task is cancelled, then returns. The first tick is one interval after the call, and it
    /// pings only if the heartbeat moved since the call.
    /// - Parameter clock: The clock to sleep on; tests pass a manual one.
    package func run<C: Clock>(clock: C) async where C.Duration == Duration {
        var gate = WatchdogGate(initialCount: heartbeat.count)
        var deadline = clock.now.advanced(by: interval)
        while !Task.isCancelled {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
            } catch {
                return
            }
            deadline = deadline.advanced(by: interval)
            guard gate.shouldPing(count: heartbeat.count) else {
                logger.debug("watchdog: heartbeat stalled, not pinging")
                continue
            }
            do {
                try notifier.watchdog()
            } catch {
                logger.warning("watchdog ping failed: \(error)")
            }
        }
    }
}

/// The pinger's decision, separate from time and I/O: ping when the count differs from the last one seen.
package struct WatchdogGate: Sendable, Hashable {
    private var lastCount: UInt64

    /// Creates a gate that has seen `initialCount`.
    /// - Parameter initialCount: The heartbeat's count when the pinger starts.
    package init(initialCount: UInt64) {
        self.lastCount = initialCount
    }

    /// Whether to ping now, given the heartbeat's current count; remembers `count`.
    /// - Parameter count: The heartbeat's current count.
    /// - Returns: `true` when the heartbeat moved since the last call.
    package mutating func shouldPing(count: UInt64) -> Bool {
        defer { lastCount = count }
        return count != lastCount
    }
}

/// A liveness counter: the poll loop calls ``beat()`` after every poll (answered or failed), and ``WatchdogPinger``
/// pings systemd only if it moved since the last ping, so a stalled loop stops the pings and systemd restarts the
/// service.
///
/// A reference shared between the loop and the pinger; lock-free.
package final class Heartbeat: Sendable {
    private let counter = Atomic<UInt64>(0)

    /// Creates a heartbeat at zero.
    package init() {}

    /// Records one unit of progress.
    package func beat() {
        counter.wrappingAdd(1, ordering: .relaxed)
    }

    /// How many beats so far.
    package var count: UInt64 {
        counter.load(ordering: .relaxed)
    }
}

/// Sends one datagram to a `$NOTIFY_SOCKET` address: the socket code behind ``SystemdNotifier``.
///
/// Written here rather than calling `sd_notify` so the address comes from an injected environment instead of
/// the process-global one. Supports what systemd hands out: an absolute path, or `@name` for an abstract socket.
enum NotifyDatagram {
    /// Sends `message` as one datagram to `address`.
    /// - Parameters:
    ///   - message: `VAR=value` lines.
    ///   - address: `$NOTIFY_SOCKET`.
    /// - Throws: ``JournalError`` `.notifyAddress` for an unusable address, `.notifySocket` or `.notifySend` with
    ///   the errno of the failing call.
    static func send(_ message: String, to address: String) throws(JournalError) {
        var path = Array(address.utf8)
        let isAbstract = path.first == UInt8(ascii: "@")
        guard isAbstract || path.first == UInt8(ascii: "/") else {
            throw JournalError(code: .notifyAddress, context: address)
        }
        if isAbstract { path[0] = 0 }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: socketAddress.sun_path)
        // A path needs its terminating NUL; an abstract name uses the exact length.
        guard path.count + (isAbstract ? 0 : 1) <= capacity, path.count > 1 else {
            throw JournalError(code: .notifyAddress, context: address)
        }
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (isAbstract ? 0 : 1))

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw JournalError(code: .notifySocket, errno: errno, context: address)
        }
        defer { close(descriptor) }

        let bytes = Array(message.utf8)
        let (sent, number) = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                    SystemCall.retryingOnInterrupt {
                        sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), generic, length)
                    }
                }
            }
        }
        if sent < 0 { throw JournalError(code: .notifySend, errno: number, context: address) }
    }
}
