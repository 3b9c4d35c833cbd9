extension MetadataSource {
    /// This source's poll interval when neither `--interval`, nor `[sources.NAME] interval`, nor the file's
    /// top-level `interval` sets one: chosen by how soon its signal must be acted on (docs/configuration.md).
    ///
    /// - spot, 1 s: a notice gives two minutes; it reaches the first hook within about 1 s.
    /// - rebalance and asg, 5 s: AWS's own guidance for rebalance; an Auto Scaling lifecycle action waits for its
    ///   hook (default heartbeat timeout one hour).
    /// - maintenance, 60 s: events are scheduled days ahead.
    /// - tags, 60 s: the key list and every value each poll, so that a changed value is seen within a minute.
    ///
    /// At these defaults the host makes 1.6 IMDS requests per second with 10 tags, 2.27 with the maximum of 50.
    package var defaultInterval: Duration {
        switch self {
        case .spot: .seconds(1)
        case .rebalance, .asg: .seconds(5)
        case .maintenance, .tags: .seconds(60)
        }
    }
}

/// How one ``MetadataSource`` is polled: the resolved `[sources.NAME]` settings of the Config module, and what the
/// Watch module's poller reads.
package struct SourceSettings: Sendable, Equatable {
    /// The smallest poll interval accepted: 0.05 s.
    package static let minimumInterval = Duration.milliseconds(50)

    /// Whether the source is polled at all.
    package var enabled: Bool
    /// Start-to-start time between two polls: `--interval`, else the source's own `[sources.NAME] interval`, else
    /// the top-level one, else its ``MetadataSource/defaultInterval``; at least ``minimumInterval``.
    package var interval: Duration

    /// Creates source settings; `interval` is raised to ``minimumInterval`` when smaller.
    /// - Parameters:
    ///   - enabled: Whether the source is polled.
    ///   - interval: Its poll interval.
    package init(enabled: Bool = true, interval: Duration) {
        self.enabled = enabled
        self.interval = max(interval, Self.minimumInterval)
    }
}
