import Events
import Testing

@Suite struct MetadataSourceTests {
    /// The payload's `source` of each event type is its source's path: the contract's values (interface.md).
    @Test func eventSourceIsTheContractPath() {
        let expected: [EventType: String] = [
            .spotInterruption: "meta-data/spot/instance-action",
            .rebalanceRecommendation: "meta-data/events/recommendations/rebalance",
            .maintenanceScheduled: "meta-data/events/maintenance/scheduled",
            .maintenanceChanged: "meta-data/events/maintenance/scheduled",
            .maintenanceCleared: "meta-data/events/maintenance/scheduled",
            .asgLifecycleState: "meta-data/autoscaling/target-lifecycle-state",
            .tagsChanged: "meta-data/tags/instance",
        ]
        for type in EventType.allCases {
            let event = Event(
                id: "x", detectedAtMilliseconds: 0, instance: .unknown,
                detail: SyntheticEvents.event(type, nowMilliseconds: 0).detail)
            #expect(event.source == expected[type], "\(type)")
        }
    }

    /// Every event type belongs to exactly one source, and the source lists it.
    @Test func sourcesPartitionTheEventTypes() {
        let listed = MetadataSource.allCases.flatMap(\.eventTypes)
        #expect(listed.sorted() == EventType.allCases.sorted())
        for type in EventType.allCases { #expect(type.source.eventTypes.contains(type)) }
        #expect(
            MetadataSource.maintenance.eventTypes == [.maintenanceScheduled, .maintenanceChanged, .maintenanceCleared])
    }

    /// Source settings never poll faster than the minimum interval.
    @Test func sourceSettingsRaiseTooShortIntervals() {
        #expect(SourceSettings(interval: .milliseconds(10)).interval == SourceSettings.minimumInterval)
        #expect(
            SourceSettings(enabled: false, interval: .seconds(3))
                == SourceSettings(enabled: false, interval: .seconds(3)))
        #expect(SourceSettings(interval: .seconds(3)).enabled)
    }
}
