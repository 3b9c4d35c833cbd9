import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Testing

@testable import Webhooks

@Suite struct OutboxTests {
    func entry(_ event: String, endpoint: String = "e1", at time: Int64 = 1000) -> OutboxEntry {
        OutboxEntry(
            sequence: 0, endpointID: endpoint, eventID: event, eventType: "spot-interruption",
            body: Array("{\"id\":\"\(event)\"}".utf8), contentType: "application/json", createdAtMilliseconds: time)
    }

    @Test func deliveriesSurviveANewInstanceInOrder() async throws {
        let directory = temporaryDirectory() + "/outbox"
        let (logger, _) = capturingLogger()
        let first = WebhookOutbox(directory: directory, logger: logger)
        await first.add(entry("a"))
        let b = try #require(await first.add(entry("b")))
        await first.add(entry("c", endpoint: "e2"))
        var updated = b
        updated.attempts = 3
        updated.nextAttemptMilliseconds = 9999
        await first.update(updated)

        let second = WebhookOutbox(directory: directory, logger: logger)
        let loaded = await second.all()
        #expect(loaded.map(\.eventID) == ["a", "b", "c"])
        #expect(loaded[1].attempts == 3 && loaded[1].nextAttemptMilliseconds == 9999)
        #expect(loaded[0].body == Array("{\"id\":\"a\"}".utf8))
        #expect(await second.head(endpointID: "e2")?.eventID == "c")
        // New sequence numbers continue after the loaded ones.
        let d = try #require(await second.add(entry("d")))
        #expect(d.sequence > loaded.map(\.sequence).max() ?? 0)
        let mode =
            try FileManager.default.attributesOfItem(atPath: directory + "/" + d.fileName)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func sameEventForSameEndpointIsStoredOnce() async {
        let (logger, _) = capturingLogger()
        let outbox = WebhookOutbox(directory: temporaryDirectory() + "/outbox", logger: logger)
        #expect(await outbox.add(entry("a")) != nil)
        #expect(await outbox.add(entry("a")) == nil)
        #expect(await outbox.add(entry("a", endpoint: "e2")) != nil)
        #expect(await outbox.count == 2)
    }

    @Test func boundDropsTheOldestAndLogsIt() async {
        let (logger, handler) = capturingLogger()
        let directory = temporaryDirectory() + "/outbox"
        let outbox = WebhookOutbox(directory: directory, capacity: 3, logger: logger)
        for name in ["a", "b", "c", "d", "e"] { await outbox.add(entry(name)) }
        #expect(await outbox.all().map(\.eventID) == ["c", "d", "e"])
        #expect(handler.entries.filter { $0.level == .error && "\($0.message)".contains("dropped") }.count == 2)
        let files = try? FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
        #expect(files?.count == 3)
    }

    @Test func corruptFileIsMovedAsideWithAWarning() async throws {
        let (logger, handler) = capturingLogger()
        let directory = temporaryDirectory() + "/outbox"
        let outbox = WebhookOutbox(directory: directory, logger: logger)
        let good = try #require(await outbox.add(entry("a")))
        let bad = "0000000000000099-e1.json"
        _ = FileManager.default.createFile(atPath: directory + "/" + bad, contents: Data("{not json".utf8))
        _ = FileManager.default.createFile(atPath: directory + "/.x.json.tmp", contents: Data("partial".utf8))

        let reloaded = WebhookOutbox(directory: directory, logger: logger)
        #expect(await reloaded.all().map(\.eventID) == [good.eventID])
        #expect(FileManager.default.fileExists(atPath: directory + "/" + bad + ".corrupt"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + bad))
        #expect(!FileManager.default.fileExists(atPath: directory + "/.x.json.tmp"))
        #expect(handler.entries.contains { $0.level == .warning && "\($0.message)".contains("moved aside") })
    }

    @Test func removeDeletesTheFile() async throws {
        let (logger, _) = capturingLogger()
        let directory = temporaryDirectory() + "/outbox"
        let outbox = WebhookOutbox(directory: directory, logger: logger)
        let stored = try #require(await outbox.add(entry("a")))
        await outbox.remove(stored)
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + stored.fileName))
        #expect(await outbox.count == 0)
    }
}
