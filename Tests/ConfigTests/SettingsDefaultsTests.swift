import Events
import Journal
import Logging
import Testing
import Webhooks

@testable import Config

@Suite("Defaults")
struct SettingsDefaultsTests {
    @Test func defaultsMatchTheContract() throws {
        let settings = try Settings.resolve(file: nil, environment: [:], overrides: Overrides())
        #expect(settings.endpoint == nil)
        #expect(settings.imdsTimeout == .seconds(2))
        #expect(settings.imdsConnectTimeout == .seconds(1))
        #expect(settings.tokenTTLSeconds == 21600)
        #expect(settings.interval == nil)
        // Defaults by urgency (issue 17): spot 1 s, rebalance and ASG 5 s, maintenance and tags 60 s.
        let expected: [MetadataSource: Duration] = [
            .spot: .seconds(1), .rebalance: .seconds(5), .asg: .seconds(5), .maintenance: .seconds(60),
            .tags: .seconds(60),
        ]
        for source in MetadataSource.allCases {
            let interval = try #require(expected[source])
            #expect(settings.settings(for: source) == SourceSettings(enabled: true, interval: interval))
        }
        #expect(settings.hooksDir == "/etc/imdswatch/hooks.d")
        #expect(settings.hookTimeout == .seconds(90))
        #expect(settings.maxConcurrentEvents == 4)
        #expect(settings.stateDir == "/var/lib/imdswatch")
        #expect(settings.dryRun == false)
        #expect(settings.log == Settings.LogSettings(target: .auto, level: .info))
        #expect(settings.webhooks.isEmpty)
        #expect(settings.configFile == nil)
        #expect(settings == Settings())
    }

    @Test func webhookDefaultsMatchTheBrief() {
        let endpoint = WebhookEndpoint(url: "https://example.com/hook")
        #expect(endpoint.format == .json)
        #expect(endpoint.connectTimeout == .seconds(3))
        #expect(endpoint.timeout == .seconds(10))
        #expect(endpoint.maxAge == .seconds(3600))
        #expect(endpoint.followRedirects == false)
        #expect(endpoint.events.isEmpty)
        #expect(endpoint.accepts(.tagsChanged))
    }

    @Test func emptyFileGivesTheDefaults() throws {
        let file = try ConfigFile.parse("# nothing\n", path: "imdswatch.toml")
        var expected = Settings()
        expected.configFile = "imdswatch.toml"
        #expect(try Settings.resolve(file: file, environment: [:], overrides: Overrides()) == expected)
    }

    @Test func stateDirectoryTakesTheFirstOfSeveralEntries() throws {
        let settings = try Settings.resolve(
            file: nil, environment: ["STATE_DIRECTORY": "/var/lib/imdswatch:/var/lib/other"], overrides: Overrides()
        )
        #expect(settings.stateDir == "/var/lib/imdswatch")
    }

    @Test func sourcesMapToTheirEventTypes() {
        let all = MetadataSource.allCases.flatMap(\.eventTypes)
        #expect(Set(all).count == all.count)
        #expect(all.count == 7)
    }
}
