#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import Foundation
public import Logging

/// Tells systemd about the service's state through `$NOTIFY_SOCKET` (`Type=notify`, `WatchdogSec=`).
///
/// A value read from the environment once; safe to copy and share. Without `$NOTIFY_SOCKET` (not started by
/// systemd, or `NotifyAccess=none`) every call does nothing and returns `false`.
public struct SystemdNotifier: Sendable, Hashable {
    /// `$NOTIFY_SOCKET`, or `nil` when notifications are off.
    public let socketAddress: String?
    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, when that is set and `$WATCHDOG_PID` is unset or
    /// names this process; `nil` when systemd expects no watchdog pings.
    public let watchdogInterval: Duration?

    /// Reads the notification settings from an environment.
    /// - Parameters:
    ///   - environment: The process environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`).
    ///   - processID: This process's id, compared with `$WATCHDOG_PID`.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        processID: Int32 = getpid()
    ) {
        let address = environment["NOTIFY_SOCKET"] ?? ""
        self.socketAddress = address.isEmpty ? nil : address
        self.watchdogInterval = Self.watchdogInterval(environment: environment, processID: processID)
    }

    /// The variables systemd sets for the main process only. Remove them from the environment of child
    /// processes (hooks), so a notify-aware child does not talk to systemd on the service's behalf.
    public static let environmentVariables: Set<String> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]

    /// A pinger for ``watchdogInterval``, or `nil` when systemd expects no pings (no `WatchdogSec=`) or
    /// notifications are off.
    /// - Parameters:
    ///   - heartbeat: The liveness signal the poll loop bumps after each round.
    ///   - logger: Where failed pings are reported.
    /// - Returns: The pinger to run for the lifetime of the service.
    public func watchdogPinger(heartbeat: Heartbeat, logger: Logger) -> WatchdogPinger? {
        guard isEnabled, let watchdogInterval else { return nil }
        return WatchdogPinger(notifier: self, heartbeat: heartbeat, interval: watchdogInterval, logger: logger)
    }

    /// Whether notifications go anywhere.
    public var isEnabled: Bool { socketAddress != nil }

    /// Sends `READY=1`: start-up is complete. With `status`, sends `STATUS=` in the same datagram.
    /// - Parameter status: An optional status line.
    /// - Returns: Whether a notification was sent (`false` without `$NOTIFY_SOCKET`).
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    public func ready(status: String? = nil) throws(JournalError) -> Bool {
        try send(["READY=1"] + (status.map { [Self.statusAssignment($0)] } ?? []))
    }

    /// Sends `STATUS=line`, shown by `systemctl status`. Newlines in `line` become spaces.
    /// - Parameter line: The status line.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    public func status(_ line: String) throws(JournalError) -> Bool {
        try send([Self.statusAssignment(line)])
    }

    /// Sends `WATCHDOG=1`: the service is alive. Prefer ``WatchdogPinger``, which sends it only while a
    /// ``Heartbeat`` advances.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    public func watchdog() throws(JournalError) -> Bool {
        try send(["WATCHDOG=1"])
    }

    /// Sends `STOPPING=1`: shutdown has begun.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    public func stopping() throws(JournalError) -> Bool {
        try send(["STOPPING=1"])
    }

    /// Sends arbitrary `VAR=value` assignments in one datagram (see sd_notify(3)).
    /// - Parameter assignments: Lines such as `READY=1`; each must not contain a newline.
    /// - Returns: Whether a notification was sent.
    /// - Throws: ``JournalError`` when the socket is unusable; never when notifications are off.
    @discardableResult
    public func send(_ assignments: [String]) throws(JournalError) -> Bool {
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
