import Events
import Config
import Journal
import Logging
import Watch

package extension Settings {
    /// The poll loop's configuration: every source's interval and whether it is enabled.
    var pollerConfiguration: PollerConfiguration {
        var configuration = PollerConfiguration()
        for source in Settings.Source.allCases {
            let resolved = settings(for: source)
            configuration[source] = .init(enabled: resolved.enabled, interval: resolved.interval)
        }
        return configuration
    }

    /// The journal module's log target for these settings.
    var journalLogTarget: Journal.LogTarget {
        Journal.LogTarget(rawValue: log.target.rawValue) ?? .auto
    }

    /// swift-log's level for these settings.
    var loggerLevel: Logger.Level {
        Logger.Level(rawValue: log.level.rawValue) ?? .info
    }
}
