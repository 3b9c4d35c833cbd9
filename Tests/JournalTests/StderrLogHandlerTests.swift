import Foundation
import Logging
import Testing

@testable import Journal

@Suite("StderrLogHandler line format")
struct StderrLogHandlerTests {
    let event = LogEvent(
        level: .warning, message: "hook failed\nexit 3", metadata: ["imdswatch_hook": "10 drain", "status": "3"],
        source: "Hooks", file: "F.swift", function: "f()", line: 1
    )

    @Test func formatsLevelMessageAndSortedMetadataWithTimestamp() {
        var handler = StderrLogHandler(
            label: "t", format: StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false))
        handler[metadataKey: "a"] = "first"
        let line = handler.line(for: event, milliseconds: 1_795_521_481_500)
        #expect(
            line == #"2026-11-24T11:58:01.500Z WARNING hook failed\nexit 3 a=first imdswatch_hook="10 drain" status=3"#)
        #expect(!line.contains("\n"))
    }

    @Test func timestampIsRFC3339WithMilliseconds() {
        let handler = StderrLogHandler(
            label: "t", format: StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false))
        #expect(
            handler.line(for: event, milliseconds: 1_795_521_481_999).hasPrefix("2026-11-24T11:58:01.999Z WARNING "))
        #expect(handler.line(for: event, milliseconds: 0).hasPrefix("1970-01-01T00:00:00.000Z WARNING "))
    }

    @Test func underJournaldOmitsTimestampAndAddsSyslogPrefix() {
        let format = StderrLineFormat.forEnvironment(["JOURNAL_STREAM": "8:12345"])
        #expect(format == StderrLineFormat(includesTimestamp: false, includesSyslogPrefix: true))
        let handler = StderrLogHandler(label: "t", format: format)
        #expect(
            handler.line(for: event, milliseconds: 0)
                == #"<4>WARNING hook failed\nexit 3 imdswatch_hook="10 drain" status=3"#)
    }

    @Test func withoutJournalStreamKeepsTimestamp() {
        #expect(
            StderrLineFormat.forEnvironment([:])
                == StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false))
        #expect(StderrLineFormat.forEnvironment(["INVOCATION_ID": "x"]).includesTimestamp)
    }

    @Test(arguments: [
        ("plain", "plain"),
        ("", #""""#),
        ("two words", #""two words""#),
        ("a=b", #""a=b""#),
        (#"say "hi""#, #""say \"hi\"""#),
        ("line\nbreak", #""line\nbreak""#),
        (#"back\slash"#, #""back\\slash""#),
        ("tab\there", #""tab\there""#),
        ("esc\u{1b}[0m", #""esc\u{1b}[0m""#),
    ])
    func quotesAndEscapesValues(value: String, expected: String) {
        let format = StderrLineFormat(includesTimestamp: false, includesSyslogPrefix: false)
        let line = format.line(level: .info, message: "m", metadata: ["k": .string(value)], timestamp: "")
        #expect(line == "INFO m k=" + expected)
        #expect(!line.contains("\n") && !line.contains("\r"))
    }

    @Test func escapesControlCharactersInMessage() {
        let format = StderrLineFormat(includesTimestamp: false, includesSyslogPrefix: false)
        #expect(
            format.line(level: .error, message: "a\r\nb\u{7}", metadata: [:], timestamp: "") == #"ERROR a\r\nb\u{7}"#)
    }

    @Test func includesNonStringMetadataAndError() {
        struct Failure: Error, CustomStringConvertible { var description: String { "boom" } }
        let handler = StderrLogHandler(
            label: "t", format: StderrLineFormat(includesTimestamp: false, includesSyslogPrefix: false))
        let event = LogEvent(
            level: .error, message: "x", error: Failure(),
            metadata: ["n": .stringConvertible(42), "list": ["a", "b"]],
            source: nil, file: "F", function: "f", line: 1
        )
        #expect(handler.line(for: event, milliseconds: 0) == #"ERROR x error=boom list="[\"a\", \"b\"]" n=42"#)
    }
}

@Suite("LogTarget resolution")
struct LogTargetTests {
    @Test(arguments: [
        (LogTarget.auto, [String: String](), LogDestination.stderr),
        (.auto, ["JOURNAL_STREAM": "8:1234"], .journal),
        (.auto, ["INVOCATION_ID": "0123abcd"], .journal),
        (.auto, ["JOURNAL_STREAM": "", "INVOCATION_ID": ""], .stderr),
        (.auto, ["TERM": "xterm"], .stderr),
        (.journal, [:], .journal),
        (.stderr, ["JOURNAL_STREAM": "8:1234", "INVOCATION_ID": "x"], .stderr),
    ])
    func resolves(target: LogTarget, environment: [String: String], expected: LogDestination) {
        #expect(target.resolve(environment: environment) == expected)
    }

    @Test func parsesCommandLineSpellings() {
        #expect(LogTarget(rawValue: "auto") == .auto)
        #expect(LogTarget(rawValue: "journal") == .journal)
        #expect(LogTarget(rawValue: "stderr") == .stderr)
        #expect(LogTarget(rawValue: "syslog") == nil)
    }

    @Test func factoryMakesTheHandlerForTheDestination() {
        let journal = LoggingBootstrap.handlerFactory(destination: .journal, level: .debug, environment: [:])("a", nil)
        let stderr = LoggingBootstrap.handlerFactory(destination: .stderr, level: .notice, environment: [:])("b", nil)
        #expect(journal is JournalLogHandler)
        #expect(journal.logLevel == .debug)
        #expect(stderr is StderrLogHandler)
        #expect(stderr.logLevel == .notice)
    }
}
