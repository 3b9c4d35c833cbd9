import Events
import IMDS
import Testing
import Watch

@Suite("Change detection")
struct StateMachineTests {
    static let instance = InstanceInfo(
        instanceID: "i-0123456789abcdef0", instanceType: "m5.large", region: "eu-west-1",
        availabilityZone: "eu-west-1b", accountID: "123456789012"
    )
    static let failure = IMDSError(code: .timedOut, path: "x", endpoint: "", message: "timed out")

    static func maintenance(_ id: String, state: String = "active", notBefore: String = "2030-01-21T09:00:43Z")
        -> MaintenanceNotice
    {
        MaintenanceNotice(
            eventID: id, code: "system-reboot", description: "scheduled reboot", state: state,
            notBefore: EventTime(rfc3339: notBefore), notAfter: EventTime(rfc3339: "2030-01-21T09:17:23Z")
        )
    }

    /// Applies an observation and returns the events.
    static func apply(_ machine: inout WatchStateMachine, _ source: MetadataSource, _ observation: Observation)
        -> [Event]
    {
        machine.observe(source, observation, instance: instance, detectedAtMilliseconds: 1_795_000_000_123).events
    }

    @Test func everyEventTypeFiresOnceWithItsFields() throws {
        var machine = WatchStateMachine()
        var fired: [Event] = []
        func step(_ source: MetadataSource, _ observation: Observation, times: Int = 3) {
            for _ in 0..<times { fired += Self.apply(&machine, source, observation) }
        }
        // First observation of each source: everything but tags fires.
        step(.spot, .absent)
        step(.tags, .value(.tags(["Name": "web"])))
        step(.asg, .value(.asg("InService")))
        step(.maintenance, .value(.maintenance([])))
        #expect(fired.map(\.type) == [.asgLifecycleState])
        #expect(fired.first?.detail.dataJSON == ["state": "InService"])
        #expect(fired.first?.detail.previousJSON == ["state": nil])
        fired.removeAll()

        step(
            .spot,
            .value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))))
        step(.rebalance, .value(.rebalance(RebalanceNotice(noticeTime: EventTime(rfc3339: "2026-11-24T11:50:00Z")))))
        step(.maintenance, .value(.maintenance([Self.maintenance("instance-event-1")])))
        step(
            .maintenance,
            .value(.maintenance([Self.maintenance("instance-event-1", notBefore: "2030-01-22T09:00:43Z")])))
        step(.maintenance, .value(.maintenance([])))
        step(.asg, .value(.asg("Terminated")))
        step(.tags, .value(.tags(["Name": "db", "team": "core"])))

        #expect(
            fired.map(\.type) == [
                .spotInterruption, .rebalanceRecommendation, .maintenanceScheduled, .maintenanceChanged,
                .maintenanceCleared,
                .asgLifecycleState, .tagsChanged,
            ])
        #expect(Set(fired.map(\.id)).count == fired.count)
        let byType = Dictionary(fired.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byType[.spotInterruption]?.detail.dataJSON == ["action": "terminate", "time": "2026-11-24T12:00:00Z"])
        #expect(byType[.spotInterruption]?.detail.previousJSON == .null)
        #expect(byType[.spotInterruption]?.source == "meta-data/spot/instance-action")
        #expect(byType[.spotInterruption]?.instance == Self.instance)
        #expect(byType[.spotInterruption]?.detectedAt == "2026-11-18T11:06:40.123Z")
        #expect(byType[.spotInterruption]?.deadline?.rfc3339 == "2026-11-24T12:00:00Z")
        #expect(byType[.rebalanceRecommendation]?.detail.dataJSON == ["notice_time": "2026-11-24T11:50:00Z"])
        let scheduled: JSONValue = [
            "event_id": "instance-event-1", "code": "system-reboot", "description": "scheduled reboot",
            "state": "active",
            "not_before": "2030-01-21T09:00:43Z", "not_after": "2030-01-21T09:17:23Z", "not_before_deadline": nil,
        ]
        let rescheduled: JSONValue = [
            "event_id": "instance-event-1", "code": "system-reboot", "description": "scheduled reboot",
            "state": "active",
            "not_before": "2030-01-22T09:00:43Z", "not_after": "2030-01-21T09:17:23Z", "not_before_deadline": nil,
        ]
        #expect(byType[.maintenanceScheduled]?.detail.dataJSON == scheduled)
        #expect(byType[.maintenanceScheduled]?.detail.previousJSON == .null)
        #expect(byType[.maintenanceChanged]?.detail.dataJSON == rescheduled)
        #expect(byType[.maintenanceChanged]?.detail.previousJSON == scheduled)
        #expect(byType[.maintenanceCleared]?.detail.dataJSON == rescheduled)
        #expect(byType[.asgLifecycleState]?.detail.dataJSON == ["state": "Terminated"])
        #expect(byType[.asgLifecycleState]?.detail.previousJSON == ["state": "InService"])
        #expect(
            byType[.tagsChanged]?.detail.dataJSON == [
                "added": ["team": "core"], "removed": [:], "changed": ["Name": ["from": "web", "to": "db"]],
                "tags": ["Name": "db", "team": "core"],
            ])
        #expect(byType[.tagsChanged]?.detail.previousJSON == .null)
    }

    @Test func tagRemovalIsReported() {
        var machine = WatchStateMachine()
        _ = Self.apply(&machine, .tags, .value(.tags(["a": "1", "b": "2"])))
        let events = Self.apply(&machine, .tags, .value(.tags(["a": "1"])))
        #expect(
            events.map(\.detail.dataJSON) == [
                ["added": [:], "removed": ["b": "2"], "changed": [:], "tags": ["a": "1"]]
            ])
    }

    @Test func spotNoticeWhoseTimeMovesForwardFiresOnce() {
        var machine = WatchStateMachine()
        var fired: [Event] = []
        for second in 0..<60 {
            let time = Timestamp.rfc3339(seconds: 1_795_000_000 + Int64(second * 2))
            fired += Self.apply(
                &machine, .spot, .value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: time)))))
        }
        #expect(fired.count == 1)
        #expect(fired.first?.detail.dataJSON["time"] == .string(Timestamp.rfc3339(seconds: 1_795_000_000)))
        // A different action is a new notice; so is a notice after the old one went away.
        fired = Self.apply(
            &machine, .spot,
            .value(.spot(SpotInterruption(action: "stop", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))))
        #expect(fired.count == 1)
        _ = Self.apply(&machine, .spot, .absent)
        fired = Self.apply(
            &machine, .spot,
            .value(.spot(SpotInterruption(action: "stop", time: EventTime(rfc3339: "2026-11-24T12:10:00Z")))))
        #expect(fired.count == 1)
    }

    @Test func spotNoticeFlippingTo404AndBackFiresOnce() {
        var machine = WatchStateMachine()
        let notice = Observation.value(
            .spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z"))))
        var count = 0
        for round in 0..<10 { count += Self.apply(&machine, .spot, round % 2 == 0 ? notice : .absent).count }
        #expect(count == 1)
    }

    @Test func errorsKeepStateAndFireNothing() {
        var machine = WatchStateMachine()
        _ = Self.apply(&machine, .asg, .value(.asg("InService")))
        _ = Self.apply(&machine, .tags, .value(.tags(["a": "1"])))
        _ = Self.apply(&machine, .maintenance, .value(.maintenance([Self.maintenance("instance-event-1")])))
        let before = machine.state
        for source in MetadataSource.allCases {
            let outcome = machine.observe(
                source, .failed(Self.failure), instance: Self.instance, detectedAtMilliseconds: 0)
            #expect(outcome == .none)
        }
        #expect(machine.state == before)
        #expect(Self.apply(&machine, .asg, .value(.asg("InService"))).isEmpty)
        #expect(
            Self.apply(&machine, .maintenance, .value(.maintenance([Self.maintenance("instance-event-1")]))).isEmpty)
    }

    @Test func absentLifecycleStateAndTagsKeepTheLastValue() {
        var machine = WatchStateMachine()
        _ = Self.apply(&machine, .asg, .value(.asg("InService")))
        _ = Self.apply(&machine, .tags, .value(.tags(["a": "1"])))
        #expect(Self.apply(&machine, .asg, .absent).isEmpty)
        #expect(Self.apply(&machine, .tags, .absent).isEmpty)
        #expect(Self.apply(&machine, .asg, .value(.asg("InService"))).isEmpty)
        #expect(Self.apply(&machine, .tags, .value(.tags(["a": "1"]))).isEmpty)
        let back = Self.apply(&machine, .asg, .value(.asg("Standby")))
        #expect(back.first?.detail.previousJSON == ["state": "InService"])
    }

    @Test func lifecycleStateSeenAgainIsANewOccurrence() {
        var machine = WatchStateMachine()
        var ids: [String] = []
        for state in ["InService", "Standby", "InService", "Standby"] {
            ids += Self.apply(&machine, .asg, .value(.asg(state))).map(\.id)
        }
        #expect(ids.count == 4)
        #expect(Set(ids).count == 4)
    }

    @Test func idsAreStableForTheSameOccurrence() {
        var first = WatchStateMachine()
        var second = WatchStateMachine()
        let notice = Observation.value(
            .spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z"))))
        let a = Self.apply(&first, .spot, notice)
        let b = second.observe(.spot, notice, instance: Self.instance, detectedAtMilliseconds: 42).events
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a.first?.id.count == 32)
        var other = WatchStateMachine()
        let otherInstance = other.observe(.spot, notice, instance: .unknown, detectedAtMilliseconds: 42).events
        #expect(otherInstance.map(\.id) != a.map(\.id))
    }

    @Test func persistFlagFollowsDurableChanges() {
        var machine = WatchStateMachine()
        let notice = { (time: String) in
            Observation.value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: time))))
        }
        #expect(machine.observe(.spot, .absent, instance: Self.instance, detectedAtMilliseconds: 0).persist == false)
        #expect(
            machine.observe(.spot, notice("2026-11-24T12:00:00Z"), instance: Self.instance, detectedAtMilliseconds: 0)
                .persist)
        #expect(
            machine.observe(.spot, notice("2026-11-24T12:00:02Z"), instance: Self.instance, detectedAtMilliseconds: 0)
                .persist == false)
        #expect(machine.observe(.tags, .value(.tags([:])), instance: Self.instance, detectedAtMilliseconds: 0).persist)
    }

    @Test func stateRoundTripsThroughJSON() throws {
        var machine = WatchStateMachine()
        _ = Self.apply(
            &machine, .spot,
            .value(.spot(SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))))
        _ = Self.apply(
            &machine, .rebalance,
            .value(.rebalance(RebalanceNotice(noticeTime: EventTime(rfc3339: "2026-11-24T11:00:00Z")))))
        _ = Self.apply(&machine, .maintenance, .value(.maintenance([Self.maintenance("instance-event-1")])))
        _ = Self.apply(&machine, .asg, .value(.asg("Warmed:Running")))
        _ = Self.apply(&machine, .tags, .value(.tags(["Name": "wéb \"quoted\"\n"])))
        let text = machine.state.json.serialized()
        let decoded = try WatchState(json: try JSONDocument.parse(text))
        #expect(decoded.json == machine.state.json)
        #expect(decoded.spot.current == machine.state.spot.current)
        #expect(decoded.tags == machine.state.tags)
        #expect(decoded.maintenance == machine.state.maintenance)
        #expect(decoded.asg == machine.state.asg)
    }
}
