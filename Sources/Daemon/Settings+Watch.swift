import Config
import Events
import Watch

extension Settings {
    /// The poll loop's configuration: every source's interval and whether it is enabled.
    package var pollerConfiguration: PollerConfiguration {
        var configuration = PollerConfiguration()
        for source in MetadataSource.allCases { configuration[source] = settings(for: source) }
        return configuration
    }
}
