import Events

/// How the poll loop polls: per-source intervals and switches, and the slower paces of absent sources.
package struct PollerConfiguration: Sendable, Equatable {
    /// The interval of a configuration built without one (tests, the demo): 2 s. The daemon takes each source's
    /// from its settings (by default ``MetadataSource/defaultInterval``).
    package static let defaultInterval = Duration.seconds(2)

    /// Settings of every source (the ``SourceSettings`` the Config module resolves).
    package var sources: [MetadataSource: SourceSettings]
    /// The interval of a source that is absent by design (not in an Auto Scaling group, tags not enabled): 60 s.
    /// It goes back to its own interval as soon as the path appears.
    package var notConfiguredInterval: Duration
    /// How often the instance identity document is read again after a success: 1 h.
    package var identityRefreshInterval: Duration
    /// How soon it is tried again after a failure: 30 s.
    package var identityRetryInterval: Duration
    /// A failing source's error is logged on the 1st, 10th, 100th … consecutive failure, and otherwise at most once
    /// per this interval: 1 h.
    package var errorReminderInterval: Duration

    /// Every source enabled at the same interval.
    /// - Parameter interval: Start-to-start time between polls (`--interval`); raised to 0.05 s when smaller.
    package init(interval: Duration = PollerConfiguration.defaultInterval) {
        var sources: [MetadataSource: SourceSettings] = [:]
        for source in MetadataSource.allCases { sources[source] = SourceSettings(interval: interval) }
        self.sources = sources
        self.notConfiguredInterval = .seconds(60)
        self.identityRefreshInterval = .seconds(3600)
        self.identityRetryInterval = .seconds(30)
        self.errorReminderInterval = .seconds(3600)
    }

    /// The settings of one source (enabled at the default interval when never set).
    package subscript(source: MetadataSource) -> SourceSettings {
        get { sources[source] ?? SourceSettings(interval: Self.defaultInterval) }
        set { sources[source] = SourceSettings(enabled: newValue.enabled, interval: newValue.interval) }
    }

    /// The enabled sources, spot first.
    package var enabledSources: [MetadataSource] {
        MetadataSource.allCases.filter { self[$0].enabled }
    }
}
