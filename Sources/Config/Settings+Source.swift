public import Events

extension Settings {
    /// The resolved settings of one ``MetadataSource`` (`[sources.NAME]`: each can be turned off or given its own
    /// poll interval).
    public struct SourceSettings: Sendable, Equatable {
        /// Whether the source is polled at all.
        public var enabled: Bool
        /// Its poll interval: `--interval`, else its own `[sources.NAME] interval`, else the top-level one, else its
        /// default (``MetadataSource/defaultInterval``).
        public var interval: Duration

        /// Creates source settings.
        /// - Parameters:
        ///   - enabled: Whether the source is polled.
        ///   - interval: Its poll interval.
        public init(enabled: Bool, interval: Duration) {
            self.enabled = enabled
            self.interval = interval
        }
    }
}
