import Events

/// What the watcher knows about every source: persisted between runs so that one occurrence fires once.
package struct WatchState: Sendable, Equatable {
    /// The spot notice currently present, and the notices already fired.
    package var spot = NoticeState<SpotInterruption>()
    /// The rebalance recommendation currently present, and the ones already fired.
    package var rebalance = NoticeState<RebalanceNotice>()
    /// The maintenance events last listed.
    package var maintenance = MaintenanceState()
    /// The Auto Scaling lifecycle state last seen.
    package var asg = LifecycleStateRecord()
    /// The instance tags last seen.
    package var tags = TagsRecord()

    /// The state of a first run: nothing known.
    package init() {}

    /// The state without what is never persisted (how far a present notice's time has moved).
    var durable: WatchState {
        var copy = self
        copy.spot.latestTime = nil
        copy.rebalance.latestTime = nil
        return copy
    }
}

/// A notice that is either present or not (spot, rebalance), with the keys of notices already fired.
package struct NoticeState<Notice: Sendable & Equatable>: Sendable, Equatable {
    /// How many fired keys are remembered.
    package static var recentLimit: Int { 32 }

    /// The notice present at the last successful read, as first seen (its time is the occurrence's time).
    package var current: Notice?
    /// The latest time seen for ``current`` while it stayed present (AEMM moves it forward on every read).
    /// Not persisted: after a restart the first-seen time is the floor again.
    package var latestTime: EventTime?
    /// Occurrence keys already fired, oldest first, at most ``recentLimit``.
    package var fired: [String] = []

    /// Nothing present, nothing fired.
    package init() {}

    /// Creates a state.
    package init(current: Notice?, fired: [String]) {
        self.current = current
        self.fired = fired
    }

    mutating func remember(_ key: String) {
        fired.append(key)
        if fired.count > Self.recentLimit { fired.removeFirst(fired.count - Self.recentLimit) }
    }
}

/// The scheduled maintenance events last listed, with the keys of events already fired.
package struct MaintenanceState: Sendable, Equatable {
    /// How many fired keys are remembered.
    package static var recentLimit: Int { 128 }

    /// The events at the last successful read, in IMDS order.
    package var events: [MaintenanceNotice] = []
    /// Occurrence keys already fired, oldest first, at most ``recentLimit``.
    package var fired: [String] = []

    /// Nothing listed, nothing fired.
    package init() {}

    /// Creates a state.
    package init(events: [MaintenanceNotice], fired: [String]) {
        self.events = events
        self.fired = fired
    }

    mutating func remember(_ key: String) {
        fired.append(key)
        if fired.count > Self.recentLimit { fired.removeFirst(fired.count - Self.recentLimit) }
    }
}

/// The Auto Scaling lifecycle state last seen.
package struct LifecycleStateRecord: Sendable, Equatable {
    /// The last state read, or `nil` before the first one. A 404 keeps it.
    package var state: String?
    /// How many changes fired so far (part of each event's id, so that a state seen again is a new occurrence).
    package var generation: Int = 0

    /// Never observed.
    package init() {}

    /// Creates a record.
    package init(state: String?, generation: Int) {
        self.state = state
        self.generation = generation
    }
}

/// The instance tags last seen.
package struct TagsRecord: Sendable, Equatable {
    /// The tags at the last successful read, or `nil` before the first one. A 404 keeps them.
    package var tags: [String: String]?
    /// How many changes fired so far (part of each event's id).
    package var generation: Int = 0

    /// Never observed.
    package init() {}

    /// Creates a record.
    package init(tags: [String: String]?, generation: Int) {
        self.tags = tags
        self.generation = generation
    }
}
