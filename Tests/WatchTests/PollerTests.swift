import Durability
import Events
import IMDS
import IMDSWatchTestKit
import Logging
import ServiceLifecycle
import Testing
import Watch

@Suite("Poll loop", .timeLimit(.minutes(1)))
struct PollerTests {
    @Test func scenarioFiresEveryEventTypeOnce() async {
        let harness = PollerHarness()
        harness.reader.tags(["Name": "web"])
        harness.reader.asg("InService")
        await harness.start()
        #expect(harness.sink.events.map(\.type) == [.asgLifecycleState])
        #expect(harness.sink.events.first?.instance.instanceID == "i-0123456789abcdef0")

        harness.reader.spot("terminate")
        harness.reader.rebalance("2026-11-24T11:50:00Z")
        harness.reader.maintenance([("instance-event-1", "active", "21 Jan 2030 09:00:43 GMT")])
        await harness.rounds(3)
        harness.reader.maintenance([("instance-event-1", "active", "22 Jan 2030 09:00:43 GMT")])
        await harness.rounds(3)
        harness.reader.maintenance(nil)
        harness.reader.asg("Terminated")
        harness.reader.tags(["Name": "web", "team": "core"])
        await harness.rounds(3)
        await harness.stop()

        let types = harness.sink.events.map(\.type)
        #expect(Set(types) == Set(EventType.allCases))
        #expect(types.count == 8) // asg-lifecycle-state twice: InService at start, Terminated later
        #expect(
            harness.sink.events.first { $0.type == .maintenanceChanged }?.detail.previousJSON["not_before"]
                == "2030-01-21T09:00:43Z")
        #expect(
            harness.sink.events.first { $0.type == .maintenanceCleared }?.detail.dataJSON["not_before"]
                == "2030-01-22T09:00:43Z")
        #expect(harness.logLines(.warning, containing: "detected spot-interruption").count == 1)
    }

    @Test func spotNoticeWhoseTimeMovesForwardEveryPollFiresOnce() async {
        let harness = PollerHarness(sources: [.spot])
        await harness.start()
        for round in 0..<20 {
            harness.reader.spot("terminate", Timestamp.rfc3339(seconds: 1_795_000_120 + Int64(round * 2)))
            await harness.rounds(1)
        }
        await harness.stop()
        #expect(harness.sink.events.count == 1)
        #expect(
            harness.sink.events.first?.detail.dataJSON["time"] == .string(Timestamp.rfc3339(seconds: 1_795_000_120)))
    }

    @Test func outageWhileStateChangesFiresNothingThenTheChangeOnce() async {
        let harness = PollerHarness()
        harness.reader.asg("InService")
        harness.reader.tags(["Name": "web"])
        await harness.start()
        harness.sink.clear()

        harness.reader.outage(.timedOut)
        harness.reader.asg("Standby")
        harness.reader.tags(["Name": "db"])
        harness.reader.spot("stop")
        harness.reader.maintenance([("instance-event-9", "active", "21 Jan 2030 09:00:43 GMT")])
        await harness.rounds(10)
        #expect(harness.sink.events.isEmpty)
        let status = await harness.poller?.status()
        #expect(status?.failingSources == MetadataSource.allCases)
        #expect(status?.summary.contains("IMDS failing for 5 of 5 sources") == true)

        harness.reader.outage(nil)
        await harness.rounds(5)
        #expect(
            harness.sink.events.map(\.type).sorted() == [
                .asgLifecycleState, .maintenanceScheduled, .spotInterruption, .tagsChanged,
            ])
        #expect(
            harness.sink.events.first { $0.type == .asgLifecycleState }?.detail.previousJSON == ["state": "InService"])
        await harness.stop()
        #expect(harness.logLines(.notice, containing: "readable again after 10 failed reads").count == 5)
    }

    @Test func firstRunRecordsTagsSilently() async {
        let harness = PollerHarness(sources: [.tags])
        harness.reader.tags(["Name": "web"])
        await harness.start()
        await harness.rounds(3)
        #expect(harness.sink.events.isEmpty)
        harness.reader.tags(["Name": "db"])
        // A value changed under an unchanged key list is read again at the latest on the 15th poll (TagReadCache).
        await harness.rounds(TagReadCache(interval: PollerConfiguration.defaultInterval).refreshPolls)
        #expect(harness.sink.events.map(\.type) == [.tagsChanged])
        harness.reader.tags(["Name": "db", "team": "core"])
        await harness.rounds(1)
        await harness.stop()
        #expect(harness.sink.events.map(\.type) == [.tagsChanged, .tagsChanged], "a new key is seen on the next poll")
    }

    @Test func restartWithPersistedStateFiresOnlyWhatChanged() async {
        let first = PollerHarness()
        first.reader.spot("terminate")
        first.reader.asg("InService")
        first.reader.tags(["Name": "web"])
        first.reader.maintenance([("instance-event-1", "active", "21 Jan 2030 09:00:43 GMT")])
        await first.start()
        await first.stop()
        let firstIDs = first.sink.events.map(\.id)
        #expect(first.sink.events.count == 3)

        // A new process with the same state dir and a changed lifecycle state and tags.
        let second = PollerHarness(directory: first.directory, reader: first.reader)
        first.reader.asg("Standby")
        first.reader.tags(["Name": "web", "env": "prod"])
        await second.start()
        await second.rounds(2)
        await second.stop()
        #expect(second.sink.events.map(\.type).sorted() == [.asgLifecycleState, .tagsChanged])
        #expect(second.sink.events.allSatisfy { !firstIDs.contains($0.id) })
    }

    @Test func corruptStateFileIsMovedAsideAndTheRunContinues() async throws {
        let harness = PollerHarness(sources: [.asg])
        try writeFile(harness.statePath, "{\"version\": 1, \"spot\": tru")
        harness.reader.asg("InService")
        await harness.start()
        await harness.stop()
        #expect(harness.sink.events.map(\.type) == [.asgLifecycleState])
        #expect(harness.logLines(.warning, containing: "moved it aside").count == 1)
        let moved = try listDirectory(harness.directory).filter { $0.hasPrefix("state.json.corrupt-") }
        #expect(moved.count == 1)
        #expect(try listDirectory(harness.directory).contains("state.json"))
    }

    @Test func absentByDesignIsLoggedOnceAndPolledSlowly() async {
        let harness = PollerHarness(sources: [.spot, .asg])
        await harness.start()
        await harness.advance(by: .seconds(130), step: .seconds(1))
        let asgPath = MetadataSource.asg.path
        #expect(harness.reader.reads(of: asgPath) == [.zero, .seconds(60), .seconds(120)])
        #expect(harness.reader.reads(of: MetadataSource.spot.path).count == 66)
        #expect(
            harness.logLines(.info, containing: "is absent: the instance is not in an Auto Scaling group").count == 1)
        #expect(await harness.poller?.status().sources.first { $0.source == .asg }?.notConfigured == true)

        harness.reader.asg("InService")
        await harness.advance(by: .seconds(60), step: .seconds(1))
        #expect(harness.logLines(.info, containing: "is present now").count == 1)
        #expect(harness.sink.events.map(\.type) == [.asgLifecycleState])
        await harness.stop()
    }

    @Test func failureLoggingIsRateLimited() async {
        let harness = PollerHarness(sources: [.spot])
        harness.reader.fail(MetadataSource.spot.path, .serverError)
        await harness.start()
        await harness.rounds(149)
        let warnings = harness.logLines(.warning, containing: "cannot read meta-data/spot/instance-action")
        #expect(warnings.count == 3)
        #expect(warnings.first?.contains("fake IMDS failure serverError") == true)
        #expect(warnings.last?.contains("100 consecutive failures") == true)
        harness.reader.spot(nil)
        await harness.rounds(3)
        await harness.stop()
        #expect(harness.logLines(containing: "readable again after 150 failed reads").count == 1)
        #expect(harness.logLines(.warning, containing: "cannot read").count == 3)
    }

    @Test func throttledRoundsReportTheFirstChangesAndOneEveryInterval() async throws {
        // Checked in order, not in time: a round's report is on the stream (it keeps the newest) once the rounds are
        // settled, and a stopped poller finishes the stream, so "not reported" is the stream ending with nothing.
        for reportsRoundFive in [false, true] {
            let harness = PollerHarness(roundReportInterval: .seconds(5))
            let poller = await harness.start()
            var reports = poller.rounds.makeAsyncIterator()
            #expect(await reports.next()?.completedRounds == 1, "the first round is always reported (READY=1)")
            harness.reader.fail(MetadataSource.rebalance.path, .timedOut)
            await harness.rounds(1)
            #expect(await reports.next()?.completedRounds == 2, "a source starting to fail is reported at once")
            await harness.rounds(2)
            if reportsRoundFive {
                await harness.rounds(1)
                #expect(await reports.next()?.completedRounds == 5, "6 s after the last report: reported")
                #expect(harness.roundCallbacks.value == 5, "onRound runs after every round")
            }
            await harness.stop()
            #expect(
                await reports.next() == nil,
                reportsRoundFive ? "nothing after round 5" : "4 s after the last report, with nothing changed: not yet")
        }
    }

    @Test func roundsStreamAndStatusReportEachSource() async {
        let harness = PollerHarness()
        harness.reader.fail(MetadataSource.rebalance.path, .timedOut)
        let poller = await harness.start()
        var iterator = poller.rounds.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.completedRounds == 1)
        #expect(first?.imdsAnswered == true)
        #expect(first?.failingSources == [.rebalance])
        #expect(first?.instance.region == "eu-west-1")
        let status = await poller.status()
        #expect(status.sources.allSatisfy { $0.lastPollMilliseconds == 1_795_000_000_000 })
        #expect(status.sources.first { $0.source == .asg }?.lastObservation == .absent)
        await harness.rounds(1)
        #expect(await iterator.next()?.completedRounds == 2)
        await harness.stop()
        #expect(await iterator.next() == nil)
    }

    @Test func pollOnceReportsWithoutFiringOrSaving() async throws {
        let harness = PollerHarness()
        harness.reader.spot("terminate")
        harness.reader.asg("InService")
        harness.reader.tags(["Name": "web"])
        harness.reader.fail(MetadataSource.rebalance.path, .timedOut)
        let poller = Poller(
            configuration: harness.configuration, reader: harness.reader, journal: harness.makeJournal(),
            store: harness.store,
            clock: harness.clock, logger: Logger(label: "test")
        )
        let report = await poller.pollOnce()
        #expect(harness.sink.events.isEmpty)
        #expect(try listDirectory(harness.directory).isEmpty)
        #expect(report.imdsAnswered)
        #expect(report.diagnosis == nil)
        #expect(
            report.lines == [
                "instance: i-0123456789abcdef0 m5.large eu-west-1b account 123456789012",
                "spot: terminate at 2026-11-24T12:00:00Z",
                "rebalance: error: fake IMDS failure timedOut for meta-data/events/recommendations/rebalance",
                "maintenance: none scheduled",
                "asg: InService",
                "tags: 1 tag",
            ])
        #expect(report.json["sources"]?["spot"]?["value"] == ["action": "terminate", "time": "2026-11-24T12:00:00Z"])
        #expect(report.json["sources"]?["rebalance"]?["status"] == "error")

        harness.reader.outage(.unreachable)
        let down = await poller.pollOnce()
        #expect(!down.imdsAnswered)
        #expect(down.diagnosis?.contains("unreachable") == true)
    }

    @Test func slowSourceDoesNotDelaySpot() async {
        let harness = PollerHarness(sources: [.spot, .tags])
        harness.reader.tags(["a": "1", "b": "2"])
        harness.reader.setDelay(.seconds(7), for: MetadataSource.tags.path)
        await harness.start()
        await harness.advance(by: .seconds(20), step: .milliseconds(500))
        #expect(
            harness.reader.reads(of: MetadataSource.spot.path)
                == stride(from: 0, through: 20, by: 2).map { Duration.seconds($0) })
        await harness.stop()
    }

    @Test func malformedBodyIsAnErrorNotAbsent() async {
        let harness = PollerHarness(sources: [.spot, .maintenance])
        harness.reader.maintenance([("instance-event-1", "active", "21 Jan 2030 09:00:43 GMT")])
        await harness.start()
        harness.reader.set(MetadataSource.maintenance.path, "<html>Service Unavailable</html>")
        harness.reader.set(MetadataSource.spot.path, "{\"action\": \"terminate\"")
        await harness.rounds(3)
        await harness.stop()
        #expect(harness.sink.events.map(\.type) == [.maintenanceScheduled])
        let status = harness.logLines(.warning, containing: "unparsable body")
        #expect(status.count == 2)
    }
}

@Suite("Poller as a service", .timeLimit(.minutes(1)))
struct PollerServiceTests {
    @Test func gracefulShutdownStopsThePoller() async throws {
        let harness = PollerHarness(sources: [.spot])
        let journal = harness.makeJournal()
        let poller = Poller(
            configuration: harness.configuration, reader: harness.reader, journal: journal, store: harness.store,
            clock: harness.clock, logger: Logger(label: "test")
        )
        let group = ServiceGroup(services: [journal, poller], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        await harness.settle()
        harness.reader.spot("terminate")
        harness.clock.advance(by: .seconds(2))
        await harness.settle()
        await journal.waitUntilTaken()
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(harness.sink.events.map(\.type) == [.spotInterruption])
        #expect(await poller.status().completedRounds == 2)
    }
}

/// A sink that, at each delivery, reads the state dir as a restarted process would.
final class StateCheckingSink: EventSink {
    let harness: PollerHarness
    let recorder = RecordingSink()
    let persistedAtDelivery = RecordingSink()

    init(harness: PollerHarness) {
        self.harness = harness
    }

    func deliver(_ event: Event) async {
        var restarted = WatchStateMachine(state: harness.savedState())
        let again = restarted.observe(
            .spot,
            .value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))),
            instance: event.instance, detectedAtMilliseconds: 0
        )
        // The state says it fired: then the journal must hold the event too, unacknowledged (offered again).
        let path = harness.directory + "/" + EventJournal.fileName
        let bytes: [UInt8] = ((try? SafeFile.readRegularFileIfPresent(path, limit: 1 << 26)) ?? nil) ?? []
        let journaled = JournalRecord.read(bytes).records.contains { record in
            guard case .detected(let events, let state) = record, state != nil else { return false }
            return events.contains { $0.id == event.id }
        }
        if again.events.isEmpty, journaled { await persistedAtDelivery.deliver(event) }
        await recorder.deliver(event)
    }
}

@Suite("Poller persistence and identity", .timeLimit(.minutes(1)))
struct PollerPersistenceTests {
    @Test func theEventAndTheStateThatSaysItFiredAreDurableTogetherBeforeAnyConsumerGetsIt() async {
        let harness = PollerHarness(sources: [.spot])
        let sink = StateCheckingSink(harness: harness)
        harness.reader.spot("terminate")
        let journal = EventJournal(
            directory: harness.directory, consumers: [SinkConsumer(name: "sink", sink: sink)],
            logger: Logger(label: "test"))
        let poller = Poller(
            configuration: harness.configuration, reader: harness.reader, journal: journal, store: harness.store,
            clock: harness.clock, logger: Logger(label: "test")
        )
        let running = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await poller.run() }
                group.addTask { try await journal.run() }
            }
        }
        await harness.settle()
        await journal.waitUntilTaken()
        running.cancel()
        _ = try? await running.value
        #expect(sink.recorder.events.count == 1)
        // At delivery the journal holds the event and the state that says it fired, both durable: a restart offers
        // the event again if the consumer had not taken it, and never fires it twice.
        #expect(sink.persistedAtDelivery.events.count == 1)
        var restarted = WatchStateMachine(state: harness.savedState())
        let again = restarted.observe(
            .spot,
            .value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))),
            instance: sink.recorder.events.first?.instance ?? .unknown, detectedAtMilliseconds: 0
        )
        #expect(again.events.isEmpty)
    }

    @Test func eventsCarryTheInstanceOnceTheIdentityDocumentIsReadable() async {
        let harness = PollerHarness(sources: [.spot, .asg])
        harness.reader.fail(MetadataPath.identityDocument, .timedOut)
        harness.reader.asg("InService")
        await harness.start()
        #expect(harness.sink.events.first?.instance == .unknown)
        #expect(harness.logLines(.warning, containing: "cannot read the instance identity document").count == 1)
        harness.reader.set(MetadataPath.identityDocument, FakeMetadataReader.identityBody)
        await harness.advance(by: .seconds(30), step: .seconds(2))
        harness.reader.asg("Standby")
        harness.reader.spot("terminate")
        await harness.rounds(1)
        await harness.stop()
        #expect(harness.sink.events.count == 3)
        #expect(harness.sink.events.dropFirst().allSatisfy { $0.instance.instanceID == "i-0123456789abcdef0" })
        #expect(harness.reader.reads(of: MetadataPath.identityDocument) == [.zero, .seconds(30)])
    }
}
