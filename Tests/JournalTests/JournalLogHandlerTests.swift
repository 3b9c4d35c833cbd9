import Foundation
import IMDSWatchTestKit
import Logging
import Synchronization
import Testing

@testable import Journal

@Suite("JournalLogHandler against a real journald", .serialized, .timeLimit(.minutes(2)))
struct JournalLogHandlerTests {
    init() throws {
        try JournalFixtures.ensureJournald()
    }

    @Test func writesStructuredEntryReadBackWithJournalctl() throws {
        let run = UUID().uuidString
        var logger = Logger(label: "imdswatch.test") { JournalLogHandler(label: $0, logLevel: .trace) }
        logger[metadataKey: "imdswatch_test_run"] = .string(run)
        let line = #line + 1 // swift-log reports the line where the call starts
        logger.warning(
            "spot interruption detected\nsecond line",
            metadata: [
                LogFieldKeys.eventType: "spot-interruption", LogFieldKeys.hook: "10-drain", "hook.exit status": "3",
            ]
        )

        let entries = try JournalFixtures.entries(matching: ["--identifier=imdswatch", "IMDSWATCH_TEST_RUN=\(run)"])
        let entry = try #require(entries.first)
        #expect(entries.count == 1)
        #expect(entry["MESSAGE"] == "spot interruption detected\nsecond line")
        #expect(entry["PRIORITY"] == "4")
        #expect(entry["SYSLOG_IDENTIFIER"] == "imdswatch")
        #expect(entry["CODE_FILE"]?.hasSuffix("JournalLogHandlerTests.swift") == true)
        #expect(entry["CODE_LINE"] == String(line))
        #expect(entry["CODE_FUNC"]?.contains("writesStructuredEntryReadBackWithJournalctl") == true)
        #expect(entry["IMDSWATCH_EVENT_TYPE"] == "spot-interruption")
        #expect(entry["IMDSWATCH_HOOK"] == "10-drain")
        #expect(entry["HOOK_EXIT_STATUS"] == "3")
        #expect(entry["LOGGER_LABEL"] == "imdswatch.test")
    }

    @Test func everyLevelLandsWithItsPriority() throws {
        let run = UUID().uuidString
        var logger = Logger(label: "imdswatch.test") { JournalLogHandler(label: $0, logLevel: .trace) }
        logger[metadataKey: "imdswatch_test_run"] = .string(run)
        let levels = Logger.Level.allCases
        for level in levels {
            logger.log(level: level, "level \(level.rawValue)", metadata: ["test_level": .string(level.rawValue)])
        }
        let entries = try JournalFixtures.entries(
            matching: ["IMDSWATCH_TEST_RUN=\(run)"], minimumCount: levels.count
        )
        let priorities = Dictionary(entries.compactMap { entry in entry["TEST_LEVEL"].map { ($0, entry["PRIORITY"]) } })
        { a, _ in a }
        #expect(
            priorities == [
                "trace": "7", "debug": "7", "info": "6", "notice": "5", "warning": "4", "error": "3", "critical": "2",
            ])
    }

    @Test func metadataProviderAndHandlerMetadataAreMerged() throws {
        let run = UUID().uuidString
        let provider = Logger.MetadataProvider { ["imdswatch_event_id": "evt-1", "shared": "provider"] }
        var logger = Logger(label: "imdswatch.test") {
            JournalLogHandler(label: $0, logLevel: .info, metadataProvider: provider)
        }
        logger[metadataKey: "imdswatch_test_run"] = .string(run)
        logger[metadataKey: "shared"] = "handler"
        logger.info("merged", metadata: ["call": "yes"])
        let entry = try #require(try JournalFixtures.entries(matching: ["IMDSWATCH_TEST_RUN=\(run)"]).first)
        #expect(entry["IMDSWATCH_EVENT_ID"] == "evt-1")
        #expect(entry["SHARED"] == "provider")
        #expect(entry["CALL"] == "yes")
    }

    @Test func fallsBackToStderrOnceWhenJournaldRefuses() {
        let fallback = StderrFallback(format: StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false))
        let attempts = Counter()
        let handler = JournalLogHandler(label: "t", logLevel: .info, metadataProvider: nil, fallback: fallback) {
            _ throws(JournalError) in
            attempts.increment()
            throw JournalError(code: .journalSend, errno: ECONNREFUSED)
        }
        let logger = Logger(label: "t") { _ in handler }
        #expect(!handler.hasFallenBack)
        logger.info("first line, goes to stderr")
        logger.info("second line, goes to stderr too")
        #expect(handler.hasFallenBack)
        #expect(attempts.value == 2)
    }
}

/// The journal field keys the other modules use (mirrors Events.LogField, which this test target cannot import).
enum LogFieldKeys {
    static let eventType = "imdswatch_event_type"
    static let hook = "imdswatch_hook"
}

/// A thread-safe counter for closures the handler calls.
final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
