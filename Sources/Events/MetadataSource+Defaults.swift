extension MetadataSource {
    /// This source's poll interval when neither `--interval`, nor `[sources.NAME] interval`, nor the file's
    /// top-level `interval` sets one: chosen by how soon its signal must be acted on (docs/configuration.md).
    ///
    /// - spot, 1 s: a notice gives two minutes; it reaches the first hook within about 1 s.
    /// - rebalance and asg, 5 s: AWS's own guidance for rebalance; an Auto Scaling lifecycle action waits for its
    ///   hook (default heartbeat timeout one hour).
    /// - maintenance, 60 s: events are scheduled days ahead.
    /// - tags, 60 s: the key list each poll; values when the key list changes and otherwise every
    ///   ``tagValueRefreshPolls`` polls.
    ///
    /// At these defaults the host makes at most 1.49 IMDS requests per second with the maximum of 50 tags.
    public var defaultInterval: Duration {
        switch self {
        case .spot: .seconds(1)
        case .rebalance, .asg: .seconds(5)
        case .maintenance, .tags: .seconds(60)
        }
    }

    /// The tags source re-reads every value on every this many polls even when the key list has not changed, so
    /// that a value changed under an unchanged key is seen within this many intervals (15 min at the default 60 s).
    public static let tagValueRefreshPolls = 15
}
