import Events

/// Change detection: turns each observation of a source into the events it causes and the next state.
///
/// Pure: no I/O, no clock. The poll loop feeds it observations, persists ``state`` when an outcome says so (before
/// dispatching the outcome's events), and dispatches the events. The rules (docs/events.md):
/// - an error fires nothing and keeps the last known state, so nothing spurious fires when errors stop;
/// - spot and rebalance notices fire when they appear; a notice whose action is unchanged and whose time only
///   moves forward while it stays present is the same occurrence (AEMM recomputes the time on every read);
/// - maintenance events fire when an `EventId` appears, when its fields change, and when it leaves the list;
/// - the Auto Scaling state fires on every change, the first observation included; a 404 keeps the last state;
/// - tags fire when they differ from the last observed tags; the first observation is recorded silently;
/// - an occurrence key fired before (remembered in the state) never fires again.
package struct WatchStateMachine: Sendable {
    /// What one observation leads to.
    package struct Outcome: Sendable, Equatable {
        /// Events to dispatch, in order.
        package var events: [Event]
        /// True when the durable state changed: save it before dispatching ``events``.
        package var persist: Bool

        /// Nothing to do.
        package static let none = Outcome(events: [], persist: false)

        /// Creates an outcome.
        package init(events: [Event], persist: Bool) {
            self.events = events
            self.persist = persist
        }
    }

    /// The current state.
    package private(set) var state: WatchState

    /// Creates a machine.
    /// - Parameter state: The persisted state, or `WatchState()` on a first run.
    package init(state: WatchState = WatchState()) {
        self.state = state
    }

    /// Applies one observation.
    /// - Parameters:
    ///   - source: The source that was read.
    ///   - observation: What the read found. A value of another source is ignored.
    ///   - instance: The instance the events are about.
    ///   - detectedAtMilliseconds: The wall-clock time of the read, in milliseconds since the Unix epoch.
    /// - Returns: The events to fire and whether to save the state.
    package mutating func observe(
        _ source: MetadataSource, _ observation: Observation, instance: InstanceInfo, detectedAtMilliseconds: Int64
    ) -> Outcome {
        let before = state.durable
        var found: [Found] = []
        switch (source, observation) {
        case (_, .failed):
            return .none
        case (_, .value(let value)) where value.source != source:
            return .none
        case (.spot, .absent):
            state.spot.current = nil
            state.spot.latestTime = nil
        case (.spot, .value(.spot(let notice))):
            found = observeSpot(notice)
        case (.rebalance, .absent):
            state.rebalance.current = nil
            state.rebalance.latestTime = nil
        case (.rebalance, .value(.rebalance(let recommendation))):
            found = observeRebalance(recommendation)
        case (.maintenance, .absent):
            found = observeMaintenance([])
        case (.maintenance, .value(.maintenance(let events))):
            found = observeMaintenance(events)
        case (.asg, .value(.asg(let lifecycleState))):
            found = observeLifecycleState(lifecycleState)
        case (.tags, .value(.tags(let tags))):
            found = observeTags(tags)
        case (.asg, .absent), (.tags, .absent), (_, .value):
            return .none
        }
        let events = found.map { item in
            Event(
                id: EventID.make(type: item.detail.type, instanceID: instance.instanceID, fields: item.fields),
                detectedAtMilliseconds: detectedAtMilliseconds, instance: instance, detail: item.detail
            )
        }
        return Outcome(events: events, persist: state.durable != before)
    }

    /// An event before it gets an id, an instance and a time.
    private struct Found {
        var fields: [String]
        var detail: EventDetail
    }

    private static func key(_ type: EventType, _ fields: [String]) -> String {
        ([type.rawValue] + fields).joined(separator: " ")
    }

    private mutating func observeSpot(_ notice: SpotInterruption) -> [Found] {
        if let current = state.spot.current, current.action == notice.action,
            Self.isNotEarlier(notice.time, than: state.spot.latestTime ?? current.time)
        {
            state.spot.latestTime = notice.time
            return []
        }
        state.spot.current = notice
        state.spot.latestTime = notice.time
        let fields = [notice.action, notice.time.rfc3339]
        let key = Self.key(.spotInterruption, fields)
        guard !state.spot.fired.contains(key) else { return [] }
        state.spot.remember(key)
        return [Found(fields: fields, detail: .spotInterruption(notice))]
    }

    private mutating func observeRebalance(_ recommendation: RebalanceNotice) -> [Found] {
        if let current = state.rebalance.current,
            Self.isNotEarlier(recommendation.noticeTime, than: state.rebalance.latestTime ?? current.noticeTime)
        {
            state.rebalance.latestTime = recommendation.noticeTime
            return []
        }
        state.rebalance.current = recommendation
        state.rebalance.latestTime = recommendation.noticeTime
        let fields = [recommendation.noticeTime.rfc3339]
        let key = Self.key(.rebalanceRecommendation, fields)
        guard !state.rebalance.fired.contains(key) else { return [] }
        state.rebalance.remember(key)
        return [Found(fields: fields, detail: .rebalanceRecommendation(recommendation))]
    }

    private mutating func observeMaintenance(_ events: [MaintenanceNotice]) -> [Found] {
        let old = state.maintenance.events
        var found: [Found] = []
        func fire(_ fields: [String], _ detail: EventDetail) {
            let key = Self.key(detail.type, fields)
            guard !state.maintenance.fired.contains(key) else { return }
            state.maintenance.remember(key)
            found.append(Found(fields: fields, detail: detail))
        }
        for event in events {
            if let before = old.first(where: { $0.eventID == event.eventID }) {
                if before != event {
                    fire(
                        [event.eventID] + Self.identity(before) + Self.identity(event),
                        .maintenanceChanged(event, previous: before))
                }
            } else {
                fire([event.eventID], .maintenanceScheduled(event))
            }
        }
        for before in old where !events.contains(where: { $0.eventID == before.eventID }) {
            fire([before.eventID], .maintenanceCleared(before))
        }
        state.maintenance.events = events
        return found
    }

    private static func identity(_ event: MaintenanceNotice) -> [String] {
        [
            event.code, event.description, event.state, event.notBefore.rfc3339, event.notAfter.rfc3339,
            event.notBeforeDeadline?.rfc3339 ?? "",
        ]
    }

    /// Whether `time` is `reference` or later. Both are RFC 3339 UTC with whole seconds as IMDS decoding writes
    /// them, whose text sorts as the times do.
    private static func isNotEarlier(_ time: EventTime, than reference: EventTime) -> Bool {
        time.rfc3339 >= reference.rfc3339
    }

    private mutating func observeLifecycleState(_ lifecycleState: String) -> [Found] {
        let previous = state.asg.state
        guard previous != lifecycleState else { return [] }
        state.asg.state = lifecycleState
        state.asg.generation += 1
        return [
            Found(
                fields: [String(state.asg.generation), previous ?? "", lifecycleState],
                detail: .asgLifecycleState(LifecycleStateChange(state: lifecycleState, previousState: previous))
            )
        ]
    }

    private mutating func observeTags(_ tags: [String: String]) -> [Found] {
        guard let previous = state.tags.tags else {
            state.tags.tags = tags // The first observation is recorded silently.
            return []
        }
        guard previous != tags else { return [] }
        state.tags.tags = tags
        state.tags.generation += 1
        return [
            Found(
                fields: [String(state.tags.generation), Tag.json(Tag.sorted(tags)).serialized()],
                detail: .tagsChanged(TagChanges(from: previous, to: tags))
            )
        ]
    }
}
