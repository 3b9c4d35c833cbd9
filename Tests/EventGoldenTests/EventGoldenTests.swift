import Durability
import Events
import Foundation
import Hooks
import Journal
import Logging
import Testing
import Watch
import Webhooks

/// The bytes every edge makes of an event, for every event type, compared with golden files written by the release
/// before events were typed: the `imdswatch.event/v1` payload (hooks' stdin and the `json` webhook body), the
/// hooks' `IMDSWATCH_*` environment, the detection's journald fields, the other webhook bodies, and the records of
/// the state directory (`events.journal`, `hooks-pending/`).
///
/// `IMDSWATCH_RECORD_GOLDEN=1 swift test --filter EventGoldenTests` rewrites the files (only when the contract
/// changes on purpose).
@Suite("Golden event payloads")
struct EventGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let recording = ProcessInfo.processInfo.environment["IMDSWATCH_RECORD_GOLDEN"] == "1"

    @Test func casesCoverEveryEventTypeDetectedAndSynthetic() {
        #expect(Set(GoldenInputs.detected().map(\.event.type)) == Set(EventType.allCases))
        #expect(GoldenInputs.synthetic().map(\.event.type) == EventType.allCases)
        #expect(GoldenInputs.detected().count == 11)
    }

    @Test(arguments: GoldenInputs.all)
    func payloadMatchesGolden(_ golden: GoldenCase) throws {
        try Self.compare(golden.event.payloadBytes(), file: "\(golden.name).payload.json")
    }

    @Test(arguments: GoldenInputs.all)
    func edgesMatchGolden(_ golden: GoldenCase) async throws {
        try Self.compare(Array(try await Self.edges(golden.event).utf8), file: "\(golden.name).edges.txt")
    }

    @Test(arguments: GoldenInputs.all)
    func jsonWebhookBodyIsThePayload(_ golden: GoldenCase) throws {
        let renderer = try WebhookBodyRenderer(endpoints: [])
        let body = renderer.body(for: golden.event, endpoint: WebhookEndpoint(url: "http://127.0.0.1:9/hook"))
        #expect(body.bytes == golden.event.payloadBytes())
        #expect(body.contentType == "application/json")
    }

    @Test(arguments: GoldenInputs.all)
    func journalRecordsReadBackToTheSameEvent(_ golden: GoldenCase) {
        let records: [JournalRecord] = [
            .detected(events: [golden.event], state: nil),
            .acknowledged(consumer: "lifecycle", eventID: golden.event.id, output: golden.event),
        ]
        for record in records {
            let reading = JournalRecord.read(record.line())
            #expect(reading.records == [record])
            #expect(reading.records.first?.line() == record.line())
        }
    }

    /// Everything but the payload, in named sections.
    static func edges(_ event: Event) async throws -> String {
        var text = ""
        func section(_ name: String, _ lines: [String]) {
            text += "== \(name)\n" + lines.map { $0 + "\n" }.joined()
        }
        let environment = HookRunner.environment(
            for: event, eventFile: "/run/imdswatch/imdswatch-event-AbC123", dryRun: false)
        section(
            "hook environment",
            environment.keys.sorted().map { key in
                if case .some(.some(let value)) = environment[key] { "\(key)=\(value)" } else { "\(key) (unset)" }
            })
        let log = Poller<ContinuousClock>.detectionLog(event)
        let entry = JournalEntry(
            event: LogEvent(
                level: log.level, message: log.message, metadata: log.metadata, source: "Watch",
                file: "Watch/Poller.swift", function: "logDetection(_:)", line: 1
            ),
            metadata: [:], label: "imdswatch"
        )
        section("journald fields", entry.fields.filter { !$0.name.hasPrefix("CODE_") }.map { "\($0.name)=\($0.value)" })
        let renderer = try WebhookBodyRenderer(endpoints: [])
        for format in [WebhookFormat.cloudevents, .slack] {
            let body = renderer.body(
                for: event, endpoint: WebhookEndpoint(url: "http://127.0.0.1:9/hook", format: format))
            section("webhook \(format) (\(body.contentType))", [String(decoding: body.bytes, as: UTF8.self)])
        }
        let template = try WebhookTemplate(
            text: """
                {{summary}} | {{severity}} | {{type}} | {{instance.instance_id}} | \
                {{#data}}{{action}}{{time}}{{notice_time}}{{event_id}}{{state}}{{group}}{{lifecycle_hook}}{{/data}} | \
                {{#previous}}was {{state}}{{not_before}}{{/previous}}{{^previous}}no previous{{/previous}}
                {{{data_json}}}
                {{{payload_json}}}
                """)
        section("webhook template", [template.render(event)])
        section(
            "events.journal detected",
            [String(decoding: JournalRecord.detected(events: [event], state: nil).line(), as: UTF8.self)])
        let ack = JournalRecord.acknowledged(consumer: "lifecycle", eventID: event.id, output: event)
        section("events.journal acknowledged", [String(decoding: ack.line(), as: UTF8.self)])
        section("hooks-pending record", [try await pendingRecord(event)])
        return text
    }

    /// The `hooks-pending/` file the dispatcher writes for `event`.
    static func pendingRecord(_ event: Event) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = PendingHookSequences(directory: directory.path, logger: Logger(label: "golden"))
        #expect(await store.record(event))
        await store.markDone(eventID: event.id, hook: "10-drain")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.count == 1)
        let data = try Data(contentsOf: directory.appendingPathComponent(files.first ?? "missing"))
        return String(decoding: data, as: UTF8.self)
    }

    static func compare(_ bytes: [UInt8], file: String) throws {
        let url = directory.appendingPathComponent(file)
        if recording {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
            return
        }
        guard let golden = FileManager.default.contents(atPath: url.path) else {
            Issue.record("missing golden file \(file) (record with IMDSWATCH_RECORD_GOLDEN=1)")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == String(decoding: golden, as: UTF8.self), "golden \(file)")
        #expect(bytes == Array(golden), "golden \(file) bytes")
    }
}
