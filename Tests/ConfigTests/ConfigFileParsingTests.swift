import Events
import HTTP
import Journal
import Logging
import Testing
import Webhooks

@testable import Config

@Suite("Parsing a config file")
struct ConfigFileParsingTests {
    static let fullFile = """
        endpoint = "http://127.0.0.1:1338"
        imds_timeout = 3.5
        imds_connect_timeout = "500ms"
        token_ttl = 600
        interval = 0.25
        hooks_dir = "/opt/hooks.d"
        hook_timeout = "2m"
        max_concurrent_events = 8
        state_dir = "/srv/imdswatch"
        dry_run = true

        [log]
        target = "journal"
        level = "debug"

        [sources.spot]
        interval = 0.1
        [sources.tags]
        enabled = false
        [sources]
        maintenance.interval = "1m"

        [webhook_defaults]
        timeout = 20
        headers = { "X-Team" = "ops", "X-Env" = "prod" }
        events = ["spot-interruption"]

        [[webhook]]
        url = "https://hooks.example.com/a"
        secret_file = "/etc/imdswatch/a.secret"
        headers = { "x-env" = "staging" }

        [[webhook]]
        url = "http://10.0.0.1:8080/b"
        format = "template"
        template_file = "/etc/imdswatch/b.mustache"
        content_type = "text/plain"
        events = []
        connect_timeout = 1
        proxy = "socks5h://proxy:1080"
        ca_bundle = "/etc/ssl/ca.pem"
        max_age = "2h"
        follow_redirects = true
        """

    @Test func parsesEveryKey() throws {
        let file = try ConfigFile.parse(Self.fullFile, path: "full.toml")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.configFile == "full.toml")
        #expect(settings.endpoint == "http://127.0.0.1:1338")
        #expect(settings.imdsTimeout == .milliseconds(3500))
        #expect(settings.imdsConnectTimeout == .milliseconds(500))
        #expect(settings.tokenTTLSeconds == 600)
        #expect(settings.interval == .milliseconds(250))
        #expect(settings.settings(for: .spot) == .init(enabled: true, interval: .milliseconds(100)))
        #expect(settings.settings(for: .tags) == .init(enabled: false, interval: .milliseconds(250)))
        #expect(settings.settings(for: .maintenance).interval == .seconds(60))
        #expect(settings.settings(for: .asg) == .init(enabled: true, interval: .milliseconds(250)))
        #expect(settings.enabledSources == [.spot, .rebalance, .maintenance, .asg])
        #expect(settings.hooksDir == "/opt/hooks.d")
        #expect(settings.hookTimeout == .seconds(120))
        #expect(settings.maxConcurrentEvents == 8)
        #expect(settings.stateDir == "/srv/imdswatch")
        #expect(settings.dryRun)
        #expect(settings.log == .init(target: .journal, level: .debug))

        #expect(settings.webhooks.count == 2)
        let first = try #require(settings.webhooks.first)
        #expect(first.url == "https://hooks.example.com/a")
        #expect(first.format == .json)
        #expect(first.secretFile == "/etc/imdswatch/a.secret")
        #expect(first.headers == [HTTPHeader("X-Team", "ops"), HTTPHeader("x-env", "staging")])
        #expect(first.events == [.spotInterruption])
        #expect(first.accepts(.spotInterruption) && !first.accepts(.tagsChanged))
        #expect(first.timeout == .seconds(20))
        #expect(first.connectTimeout == .seconds(3))
        #expect(first.maxAge == .seconds(3600))

        let second = settings.webhooks[1]
        #expect(second.format == .template)
        #expect(second.templateFile == "/etc/imdswatch/b.mustache")
        #expect(second.contentType == "text/plain")
        #expect(second.events.isEmpty)
        #expect(second.connectTimeout == .seconds(1))
        #expect(second.proxy == .url("socks5h://proxy:1080"))
        #expect(settings.webhooks.first?.proxy == .environment, "no proxy key: libcurl's environment variables apply")
        #expect(second.caBundlePath == "/etc/ssl/ca.pem")
        #expect(second.maxAge == .seconds(7200))
        #expect(second.followRedirects)
    }

    @Test func shippedExampleFilePasses() throws {
        let path = repositoryRoot + "/docs/imdswatch.toml.example"
        let file = try ConfigFile.load(path: path)
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.webhooks.count == 3)
        #expect(settings.interval == nil)
        for source in MetadataSource.allCases {
            #expect(settings.settings(for: source).interval == source.defaultInterval, "the example shows the defaults")
        }
        #expect(settings.hookTimeout == .seconds(90))
    }

    @Test func documentedExamplePasses() throws {
        let page = try FileSystem.readText(repositoryRoot + "/docs/configuration.md")
        let start = try #require(page.firstRange(of: "```toml\n"))
        let end = try #require(page[start.upperBound...].firstRange(of: "```"))
        let file = try ConfigFile.parse(String(page[start.upperBound..<end.lowerBound]), path: "configuration.md")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.webhooks.count == 2)
        #expect(settings.settings(for: .asg).enabled == false)
    }

    @Test func crlfLineEndingsKeepLineNumbers() {
        let found = issues("interval = 2\r\n\r\ndry_run = 1\r\n")
        #expect(found.map(\.line) == [3])
    }

    @Test func connectTimeoutNeverExceedsTheTotal() throws {
        let file = try ConfigFile.parse(
            "imds_timeout = 0.5\n[[webhook]]\nurl = \"https://x.example\"\ntimeout = 2\n", path: "t.toml")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.imdsConnectTimeout == .milliseconds(500))
        #expect(settings.webhooks.first?.connectTimeout == .seconds(2))
    }

    @Test func missingExplicitFileIsAnError() {
        #expect(throws: ConfigError.self) {
            try Settings.load(configPath: "/nonexistent/imdswatch.toml", environment: [:], overrides: Overrides())
        }
    }

    @Test func locatesTheFileInOrder() {
        let etc = ConfigFile.defaultPath
        #expect(ConfigFile.locate(explicit: "/x.toml", environment: [:], exists: { _ in false }) == "/x.toml")
        #expect(ConfigFile.locate(explicit: nil, environment: [:], exists: { $0 == etc }) == etc)
        #expect(ConfigFile.locate(explicit: nil, environment: [:], exists: { _ in false }) == nil)
        let systemd = ["CONFIGURATION_DIRECTORY": "/run/conf:/etc/other"]
        #expect(
            ConfigFile.locate(explicit: nil, environment: systemd, exists: { _ in true }) == "/run/conf/imdswatch.toml")
        #expect(ConfigFile.locate(explicit: nil, environment: systemd, exists: { $0 == etc }) == etc)
    }

    @Test func emptyProxyMeansNoProxy() throws {
        let file = try ConfigFile.parse(
            "[[webhook]]\nurl = \"https://hooks.example.com/x\"\nproxy = \"\"\n", path: "/etc/imdswatch/imdswatch.toml")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.webhooks.first?.proxy == .url(""), "an empty CURLOPT_PROXY: no proxy at all")
    }
}
