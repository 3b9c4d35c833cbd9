import Events
import Foundation
import Testing

/// Event fields are read through the typed ``EventDetail``; JSON is made and read back only by the edge encoders.
@Suite("No string-key reads of event fields")
struct EventFieldReadTests {
    /// The files allowed to read an event's JSON by key: the one v1 encoder and decoder, and the journal file's
    /// record format.
    static let edgeEncoders: Set<String> = [
        "Sources/Events/Event+JSON.swift", "Sources/Durability/JournalRecord.swift",
    ]

    /// Subscripts of an event's JSON: `payload[…]`, `dataJSON[…]`, `previousJSON[…]`, `journalJSON[…]`, `["data"]`,
    /// `["previous"]`, and the old `event.data[…]` / `data["…"]` / `data[key]` forms.
    static let pattern = try! NSRegularExpression(
        pattern:
            #"(payload|dataJSON|previousJSON|journalJSON|\.data|\.previous)\s*(\?|!)?\s*\[|\[\s*"(data|previous)"\s*\]|\b(data|previous)\)?\s*\[\s*("|key\b)"#
    )

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func noSourceFileReadsEventFieldsByStringKey() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(atPath: sources.path))
        var scanned = 0
        var offenders: [String] = []
        for case let relative as String in enumerator where relative.hasSuffix(".swift") {
            let path = "Sources/" + relative
            scanned += 1
            guard !Self.edgeEncoders.contains(path) else { continue }
            let text = try String(contentsOf: sources.appendingPathComponent(relative), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = String(line)
                if Self.pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil {
                    offenders.append("\(path):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(scanned > 100)
        #expect(offenders.isEmpty, "string-key reads of event fields:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func scanFindsAStringKeyRead() {
        for line in [
            #"event.data["time"]?.stringValue"#, #"event.payload["data"]?["group"]"#, #"detail.dataJSON["state"]"#,
            #"guard let field = (value ?? data)[key] else"#, #"case .spotInterruption: data["time"]?.stringValue"#,
        ] {
            #expect(Self.pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil, "\(line)")
        }
    }

    @Test func anEventHoldsNoJSON() {
        for event in SyntheticEvents.all(nowMilliseconds: 1_795_000_000_000) {
            #expect(!Self.holdsJSON(event), "\(event.type)")
        }
    }

    /// Whether any stored value inside `value`, at any depth, is a ``JSONValue``.
    static func holdsJSON(_ value: Any) -> Bool {
        if value is JSONValue { return true }
        return Mirror(reflecting: value).children.contains { holdsJSON($0.value) }
    }
}
