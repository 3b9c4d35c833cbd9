import Logging
import Testing

@testable import Journal

@Suite("Journal field names and entries")
struct JournalFieldTests {
    @Test(arguments: [
        ("imdswatch_event_type", "IMDSWATCH_EVENT_TYPE"),
        ("imdswatch_hook", "IMDSWATCH_HOOK"),
        ("hook.name", "HOOK_NAME"),
        ("Hook-Exit Status", "HOOK_EXIT_STATUS"),
        ("_pid", "PID"),
        ("__x", "X"),
        ("2xx", "F2XX"),
        ("", "FIELD"),
        ("___", "FIELD"),
        ("ümlaut", "MLAUT"),
    ])
    func sanitizesFieldNames(raw: String, expected: String) {
        #expect(JournalField.sanitizedName(raw) == expected)
    }

    @Test func sanitizedNamesAreAlwaysValid() {
        let samples = ["a b", "_", "9", "é", "x=y", String(repeating: "k", count: 100), "MiXeD_09", "\n"]
        for sample in samples {
            let name = JournalField.sanitizedName(sample)
            #expect(!name.isEmpty && name.count <= 64)
            #expect(
                name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
            #expect(name.first.map { $0 != "_" && !$0.isNumber } == true)
        }
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func mapsLevelToPriority(level: Logger.Level, priority: Int) {
        #expect(level.syslogPriority == priority)
    }

    @Test func entryMergesMetadataWithPerCallWinning() {
        let event = LogEvent(
            level: .warning, message: "spot\nnotice",
            metadata: ["imdswatch_event_type": "spot-interruption", "k": "call"],
            source: "Test", file: "File.swift", function: "f()", line: 42
        )
        let entry = JournalEntry(
            event: event, metadata: ["k": "handler", "imdswatch_hook": "10-drain", "message": "x"], label: "t")
        let fields = Dictionary(entry.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(fields["MESSAGE"] == "spot\nnotice")
        #expect(fields["PRIORITY"] == "4")
        #expect(fields["SYSLOG_IDENTIFIER"] == "imdswatch")
        #expect(fields["CODE_FILE"] == "File.swift")
        #expect(fields["CODE_LINE"] == "42")
        #expect(fields["CODE_FUNC"] == "f()")
        #expect(fields["IMDSWATCH_EVENT_TYPE"] == "spot-interruption")
        #expect(fields["IMDSWATCH_HOOK"] == "10-drain")
        #expect(fields["K"] == "call")
        #expect(fields["META_MESSAGE"] == "x")
        #expect(entry.fields.filter { $0.name == "MESSAGE" }.count == 1)
    }
}
