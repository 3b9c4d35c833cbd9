import Foundation
import IMDSWatchTestKit
import Logging
import Testing

@testable import Journal

#if canImport(Glibc)
    import Glibc
#endif

@Suite("SystemdNotifier over a real NOTIFY_SOCKET", .timeLimit(.minutes(1)))
struct SystemdNotifierTests {
    @Test func sendsReadyStatusWatchdogAndStopping() throws {
        let socket = try NotifySocketListener()
        let notifier = SystemdNotifier(environment: socket.environment)
        #expect(notifier.isEnabled)
        #expect(try notifier.ready())
        #expect(socket.receive(timeout: .seconds(5)) == "READY=1")
        try notifier.status("polling: IMDS answered\nall sources ok")
        #expect(socket.receive(timeout: .seconds(5)) == "STATUS=polling: IMDS answered all sources ok")
        try notifier.watchdog()
        #expect(socket.receive(timeout: .seconds(5)) == "WATCHDOG=1")
        try notifier.stopping()
        #expect(socket.receive(timeout: .seconds(5)) == "STOPPING=1")
        try notifier.ready(status: "no IMDS on this host")
        #expect(socket.receive(timeout: .seconds(5)) == "READY=1\nSTATUS=no IMDS on this host")
    }

    @Test func doesNothingWithoutNotifySocket() throws {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(try notifier.ready() == false)
        #expect(try notifier.watchdog() == false)
        #expect(try notifier.status("x") == false)
        #expect(try notifier.stopping() == false)
        #expect(notifier.watchdogInterval == nil)
    }

    @Test func reachesAbstractSockets() throws {
        // Bind an abstract socket the way systemd may hand it out ("@name").
        let name = "imdswatch-test-\(UUID().uuidString.prefix(8))"
        let listener = try AbstractSocket(name: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        try notifier.ready()
        #expect(listener.receive() == "READY=1")
    }

    @Test func failsWithErrnoWhenNobodyListens() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/notify.sock"])
        #expect {
            try notifier.watchdog()
        } throws: { error in
            let error = error as? JournalError
            return error?.code == .notifySend && error?.errno == ENOENT
        }
    }

    @Test func rejectsRelativeAddresses() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative.sock"])
        #expect(throws: JournalError(code: .notifyAddress, context: "relative.sock")) { try notifier.ready() }
    }

    @Test func makesAPingerOnlyWhenSystemdExpectsPings() {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let heartbeat = Heartbeat()
        let watched = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x.sock", "WATCHDOG_USEC": "30000000"])
        #expect(watched.watchdogPinger(heartbeat: heartbeat, logger: logger)?.interval == .seconds(15))
        #expect(
            SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/x.sock"]).watchdogPinger(
                heartbeat: heartbeat, logger: logger) == nil)
        #expect(
            SystemdNotifier(environment: ["WATCHDOG_USEC": "30000000"]).watchdogPinger(
                heartbeat: heartbeat, logger: logger) == nil)
    }

    @Test(arguments: [
        (["WATCHDOG_USEC": "30000000"], Duration?.some(.seconds(15))),
        (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"], .some(.seconds(15))),
        (["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"], nil),
        (["WATCHDOG_USEC": "0"], nil),
        (["WATCHDOG_USEC": "soon"], nil),
        ([:], nil),
    ])
    func derivesWatchdogInterval(environment: [String: String], expected: Duration?) {
        #expect(SystemdNotifier(environment: environment, processID: 4242).watchdogInterval == expected)
    }
}

@Suite("WatchdogPinger", .timeLimit(.minutes(1)))
struct WatchdogPingerTests {
    @Test func gatePingsOnlyWhenTheHeartbeatMoved() {
        var gate = WatchdogGate(initialCount: 0)
        let decisions = [0, 1, 1, 5, 5].map { gate.shouldPing(count: $0) }
        #expect(decisions == [false, true, false, true, false])
    }

    @Test func stopsPingingWhenTheHeartbeatStalls() async throws {
        let socket = try NotifySocketListener()
        let heartbeat = Heartbeat()
        let clock = ManualClock()
        let pinger = WatchdogPinger(
            notifier: SystemdNotifier(environment: socket.environment),
            heartbeat: heartbeat,
            interval: .seconds(15),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
        let task = Task { await pinger.run(clock: clock) }
        defer { task.cancel() }

        // Each tick's ping, when there is one, is sent before the pinger sleeps again: once it has, the datagram
        // is in the socket or was never sent (an order check, no waiting in real time).
        func tick() async throws -> String? {
            clock.advance(by: .seconds(15))
            try #require(await clock.waitForSleepers())
            return socket.receive(timeout: .zero)
        }
        try #require(await clock.waitForSleepers())
        // Poll loop advancing: one ping per tick.
        for _ in 0..<3 {
            heartbeat.beat()
            #expect(try await tick() == "WATCHDOG=1")
        }
        // Poll loop stalled: ticks pass, no ping.
        for _ in 0..<3 {
            #expect(try await tick() == nil)
        }
        // Progress again: pings resume.
        heartbeat.beat()
        #expect(try await tick() == "WATCHDOG=1")

        task.cancel()
        await task.value
    }
}

/// An abstract-namespace datagram socket for the notifier's `@name` addresses.
final class AbstractSocket: Sendable {
    private let descriptor: Int32

    init(name: String) throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = [UInt8(0)] + Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        try #require(result == 0)
    }

    deinit { close(descriptor) }

    func receive() -> String? {
        var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&pollDescriptor, 1, 5000) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        return count >= 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }
}
