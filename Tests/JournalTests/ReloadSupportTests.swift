import Foundation
import IMDSWatchTestKit
import Logging
import Testing

@testable import Journal

#if canImport(Glibc)
    import Glibc
#endif

/// What a reload needs of the Journal module: `RELOADING=1` as sd_notify(3) describes, and a level switched live.
@Suite(.timeLimit(.minutes(1)))
struct ReloadSupportTests {
    @Test func reloadingCarriesMonotonicMicroseconds() throws {
        let socket = try NotifySocketListener()
        let notifier = SystemdNotifier(environment: socket.environment)
        #expect(try notifier.reloading(monotonicMicroseconds: 1_234_567))
        #expect(socket.receive(timeout: .seconds(5)) == "RELOADING=1\nMONOTONIC_USEC=1234567")
        let before = SystemdNotifier.monotonicMicroseconds()
        try notifier.reloading()
        let after = SystemdNotifier.monotonicMicroseconds()
        let message = try #require(socket.receive(timeout: .seconds(5)))
        let value = try #require(
            message.split(separator: "\n").last.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(message.hasPrefix("RELOADING=1\nMONOTONIC_USEC="))
        #expect(value >= before && value <= after)
        #expect(try SystemdNotifier(environment: [:]).reloading() == false)
    }

    @Test func handlersFollowTheSwitchUntilSetByHand() {
        let levelSwitch = LogLevelSwitch(.info)
        let factory = LoggingBootstrap.handlerFactory(
            destination: .stderr, level: .info, environment: [:], levelSwitch: levelSwitch)
        var handler = factory("test", nil)
        let copy = handler
        #expect(handler.logLevel == .info)
        levelSwitch.level = .error
        #expect(handler.logLevel == .error)
        #expect(copy.logLevel == .error, "copies (each Logger holds one) follow too")
        for level in Logger.Level.allCases {
            levelSwitch.level = level
            #expect(handler.logLevel == level)
        }
        handler.logLevel = .debug
        levelSwitch.level = .critical
        #expect(handler.logLevel == .debug, "a level set by hand detaches the handler")
        #expect(copy.logLevel == .critical)
        let fixed = LoggingBootstrap.handlerFactory(destination: .journal, level: .notice, environment: [:])(
            "test", nil)
        levelSwitch.level = .trace
        #expect(fixed.logLevel == .notice, "no switch: the bootstrap's level")
    }
}
