import Durability
import Events
import Foundation
import HTTP
import Hooks
import IMDS
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Synchronization
import Testing
import Watch
import Webhooks

/// One event's way from detection to every edge, counting how many times its `imdswatch.event/v1` payload is encoded
/// (``EventEncodingProbe``): the poller's detection and its log line, the `events.journal` record, the hooks'
/// `hooks-pending/` record (written again as each hook ends), each hook's stdin and `IMDSWATCH_*` environment, and
/// each webhook body in the outbox (json, CloudEvents, a template). Each format is made once per event, from the
/// one encoding.
@Suite("Event encoded once on its way to every edge", .timeLimit(.minutes(1)))
struct EncodeOnceTests {
    /// IMDS with one spot notice, for an instance of its own (so that the event's id is this test's alone).
    struct OneSpotNotice: MetadataReader {
        let instanceID: String

        func text(_ path: String) async throws(IMDSError) -> String? {
            switch path {
            case MetadataPath.identityDocument:
                #"{"accountId":"123456789012","availabilityZone":"eu-west-1b","instanceId":"\#(instanceID)","instanceType":"m5.large","region":"eu-west-1"}"#
            case MetadataSource.spot.path: #"{"action":"terminate","time":"2026-11-24T12:00:00Z"}"#
            default: nil
            }
        }
    }

    @Test func aSpotNoticeIsEncodedOnceOnItsWayToTheJournalTheLogTwoHooksAndThreeWebhooks() async throws {
        EventEncodingProbe.startCounting()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("encode-once-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hooksDirectory = directory + "/hooks.d"
        let outputs = directory + "/outputs"
        try FileManager.default.createDirectory(
            atPath: hooksDirectory + "/spot-interruption.d", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        for name in ["10-first", "20-second"] {
            let path = hooksDirectory + "/spot-interruption.d/" + name
            try "#!/bin/sh\ncat > \(outputs)/\(name).stdin\n".write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let template = directory + "/template.mustache"
        try #"{"text":"{{summary}}","payload":{{{payload_json}}},"data":{{{data_json}}}}"#.write(
            toFile: template, atomically: false, encoding: .utf8)

        let logs = InMemoryLogHandler()
        let logger = Logger(label: "encode-once") { _ in logs }
        // One tick when the hook sequence ends, and one per webhook request.
        let (ends, tick) = AsyncStream<Void>.makeStream()
        let sequences = Mutex<[Event]>([])
        let requests = Mutex<[HTTPRequest]>([])
        let transport = FakeTransport { request in
            requests.withLock { $0.append(request) }
            tick.yield()
            return .success(HTTPResponse(status: 200))
        }
        let hooks = HookDispatcher(
            catalog: HookCatalog(directory: hooksDirectory), runner: HookRunner(logger: logger), logger: logger,
            pending: PendingHookSequences(directory: directory + "/hooks-pending", logger: logger))
        await hooks.observeSequences { event, _ in
            sequences.withLock { $0.append(event) }
            tick.yield()
        }
        let webhooks = try WebhookDispatcher(
            endpoints: [
                WebhookEndpoint(url: "http://127.0.0.1:9/json"),
                WebhookEndpoint(url: "http://127.0.0.1:9/cloudevents", format: .cloudevents),
                WebhookEndpoint(url: "http://127.0.0.1:9/template", format: .template, templateFile: template),
            ],
            stateDirectory: directory, version: "test", transportFactory: { _ in transport }, logger: logger)
        let journal = EventJournal(
            directory: directory,
            consumers: [SinkConsumer(name: "hooks", sink: hooks), SinkConsumer(name: "webhooks", sink: webhooks)],
            logger: logger)
        var configuration = PollerConfiguration(interval: .seconds(3600))
        for source in MetadataSource.allCases where source != .spot { configuration[source].enabled = false }
        let instanceID = "i-encode-once-" + UUID().uuidString.prefix(8).lowercased()
        let poller = Poller(
            configuration: configuration, reader: OneSpotNotice(instanceID: instanceID), journal: journal,
            store: StateStore(directory: directory), clock: ContinuousClock(), logger: logger)

        // Read before the clean stop compacts the journal (every consumer has the event by then).
        let journalText = await withDiscardingTaskGroup { group in
            group.addTask { try? await poller.run() }
            group.addTask { try? await journal.run() }
            group.addTask { await hooks.run() }
            group.addTask { try? await webhooks.run() }
            var ended = 0
            for await _ in ends {
                ended += 1
                if ended == 4 { break }
            }
            await journal.waitUntilTaken()
            for await _ in poller.rounds { break } // the first round ends after the detection's log line
            let text = try? String(contentsOfFile: directory + "/" + EventJournal.fileName, encoding: .utf8)
            group.cancelAll()
            return text ?? ""
        }

        let event = try #require(sequences.withLock { $0 }.first)
        // Counted before this test reads the payload itself.
        let encodings = EventEncodingProbe.encodings(of: event.id)
        #expect(event.type == .spotInterruption && event.instance.instanceID == instanceID)
        // Every edge got its bytes: the hooks' stdin and the json webhook are the payload itself; the CloudEvents
        // envelope and the template embed it.
        let payload = String(decoding: event.payloadBytes(), as: UTF8.self)
        for name in ["10-first", "20-second"] {
            #expect(try String(contentsOfFile: "\(outputs)/\(name).stdin", encoding: .utf8) == payload)
        }
        let bodies = requests.withLock { $0 }.map { String(decoding: $0.body ?? [], as: UTF8.self) }
        #expect(bodies.count == 3)
        #expect(bodies.contains(payload))
        #expect(
            bodies.filter { $0.contains(#""data":\#(payload)"#) || $0.contains(#""payload":\#(payload)"#) }.count == 2)
        #expect(logs.entries.contains { "\($0.message)".hasPrefix("detected spot-interruption: {\"action\"") })
        #expect(journalText.contains(#"{"event":\#(payload),"detected_at_ms":"#))

        print("encodings of \(event.type.rawValue) \(event.id) on its way to every edge: \(encodings)")
        #expect(encodings == 1, "the payload was encoded \(encodings) times")
    }
}

@Suite("Event encoding kept with the event")
struct EventEncodingTests {
    @Test func copiesShareTheEncodingAndAChangedFieldIsEncodedAgain() {
        EventEncodingProbe.startCounting()
        let detected = Event(
            id: "encoding-\(UUID())", detectedAtMilliseconds: 1_795_000_000_123, instance: .unknown,
            detail: .asgLifecycleState(LifecycleStateChange(state: "Terminated", previousState: "InService")))
        let copy = detected
        #expect(detected.encoded.data == #"{"state":"Terminated"}"#)
        #expect(copy.payloadBytes() == detected.payloadBytes())
        #expect(EventEncodingProbe.encodings(of: detected.id) == 1)

        var enriched = copy
        enriched.lifecycleTarget = LifecycleTarget(group: "web-asg", hook: "drain")
        #expect(enriched.encoded.data == #"{"state":"Terminated","group":"web-asg","lifecycle_hook":"drain"}"#)
        #expect(detected.encoded.data == #"{"state":"Terminated"}"#)
        #expect(enriched != detected)
        #expect(EventEncodingProbe.encodings(of: detected.id) == 2)
    }

    @Test func anObjectWithEmbeddedTextIsTheTextOfTheSameValue() throws {
        let inner: JSONValue = ["b": "x\n\"y\"", "c": [1, .number(2.5), nil, true]]
        var object = JSONObjectText()
        object.append("a\u{1}", .string("é\u{7f}"))
        object.append("inner", serialized: inner.serialized())
        object.append("list", serializedElements: [inner.serialized(), "null"])
        object.append("n", .number(1_795_000_000_123))
        let whole: JSONValue = [
            "a\u{1}": .string("é\u{7f}"), "inner": inner, "list": [inner, nil], "n": .number(1_795_000_000_123),
        ]
        #expect(object.text == whole.serialized())
        #expect(try JSONDocument.parse(object.text) == whole)
        #expect(JSONObjectText().text == "{}")
    }
}
