import Events
import Config
import Watch

extension Settings {
    /// The poll loop's configuration: every source's resolved settings (interval, enabled).
    var pollerConfiguration: PollerConfiguration {
        var configuration = PollerConfiguration()
        for source in MetadataSource.allCases { configuration[source] = settings(for: source) }
        return configuration
    }
}
