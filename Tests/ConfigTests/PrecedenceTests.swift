import Events
import Journal
import Testing
import Webhooks

@testable import Config

@Suite("Precedence: flag > environment > file > default")
struct PrecedenceTests {
    static let file: ConfigFile = {
        var file = ConfigFile(path: "imdswatch.toml")
        file.settings.endpoint = "http://file.example"
        file.settings.stateDir = "/file/state"
        file.settings.interval = .seconds(5)
        return file
    }()

    static let environment = [
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://env.example",
        "STATE_DIRECTORY": "/env/state",
    ]

    @Test func defaultWhenNothingIsSet() throws {
        let settings = try Settings.resolve(file: nil, environment: [:], overrides: Overrides())
        #expect(settings.endpoint == nil)
        #expect(settings.stateDir == "/var/lib/imdswatch")
        #expect(settings.interval == nil)
        #expect(settings.settings(for: .spot).interval == .seconds(1))
        #expect(settings.settings(for: .tags).interval == .seconds(60))
    }

    @Test func fileOverridesDefaults() throws {
        let settings = try Settings.resolve(file: Self.file, environment: [:], overrides: Overrides())
        #expect(settings.endpoint == "http://file.example")
        #expect(settings.stateDir == "/file/state")
        #expect(settings.interval == .seconds(5))
    }

    @Test func environmentOverridesFile() throws {
        let settings = try Settings.resolve(file: Self.file, environment: Self.environment, overrides: Overrides())
        #expect(settings.endpoint == "http://env.example")
        #expect(settings.stateDir == "/env/state")
        #expect(settings.interval == .seconds(5))
    }

    @Test func flagsOverrideEnvironment() throws {
        let overrides = Overrides(
            endpoint: "http://flag.example", stateDir: "/flag/state", interval: .milliseconds(500))
        let settings = try Settings.resolve(file: Self.file, environment: Self.environment, overrides: overrides)
        #expect(settings.endpoint == "http://flag.example")
        #expect(settings.stateDir == "/flag/state")
        #expect(settings.interval == .milliseconds(500))
    }

    @Test func intervalFlagOverridesPerSourceIntervals() throws {
        let file = try ConfigFile.parse("interval = 4\n[sources.tags]\ninterval = 60\n", path: "t.toml")
        let fromFile = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(fromFile.settings(for: .tags).interval == .seconds(60))
        #expect(fromFile.settings(for: .spot).interval == .seconds(4))
        let flagged = try Settings.resolve(file: file, environment: [:], overrides: Overrides(interval: .seconds(1)))
        #expect(flagged.sources.values.allSatisfy { $0.interval == .seconds(1) })
    }

    @Test func aSourceWithoutAnIntervalKeepsItsDefaultUnderAnother() throws {
        let file = try ConfigFile.parse("[sources.spot]\ninterval = 0.5\n", path: "t.toml")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.settings(for: .spot).interval == .milliseconds(500))
        #expect(settings.settings(for: .rebalance).interval == .seconds(5))
        #expect(settings.settings(for: .maintenance).interval == .seconds(60))
        let flagged = try Settings.resolve(file: nil, environment: [:], overrides: Overrides(interval: .seconds(2)))
        #expect(
            flagged.sources.values.allSatisfy { $0.interval == .seconds(2) },
            "--interval 2 restores the old uniform pace")
    }

    @Test func flagWebhooksFollowFileWebhooksWithDefaultsAndFlags() throws {
        let file = try ConfigFile.parse(
            """
            [webhook_defaults]
            timeout = 30
            [[webhook]]
            url = "https://file.example/hook"
            """, path: "t.toml")
        let overrides = Overrides(
            webhooks: ["https://a.example", "http://b.example:8080/x"],
            webhookSecretFile: "secret", webhookFormat: .cloudevents
        )
        let settings = try Settings.resolve(file: file, environment: [:], overrides: overrides)
        #expect(
            settings.webhooks.map(\.url) == [
                "https://file.example/hook", "https://a.example", "http://b.example:8080/x",
            ])
        #expect(settings.webhooks[0].format == .json && settings.webhooks[0].secretFile == nil)
        #expect(settings.webhooks[1].format == .cloudevents && settings.webhooks[1].secretFile == "secret")
        #expect(settings.webhooks[2].timeout == .seconds(30))
    }

    @Test func dryRunAndLogTargetFlags() throws {
        let file = try ConfigFile.parse("dry_run = false\n[log]\ntarget = \"journal\"\n", path: "t.toml")
        let settings = try Settings.resolve(
            file: file, environment: [:], overrides: Overrides(logTarget: .stderr, dryRun: true))
        #expect(settings.dryRun)
        #expect(settings.log.target == .stderr)
    }

    @Test func badFlagsAreNamedOneLineEach() {
        let overrides = Overrides(
            endpoint: "ftp://x", interval: .milliseconds(10), hookTimeout: .zero,
            webhooks: ["not a url"], webhookFormat: .template
        )
        do {
            _ = try Settings.resolve(file: nil, environment: [:], overrides: overrides)
            Issue.record("expected an error")
        } catch {
            let keys = error.issues.map(\.key)
            #expect(keys == ["--endpoint", "--interval", "--hook-timeout", "--webhook-format", "--webhook"])
            #expect(error.issues.allSatisfy { $0.line == nil && $0.file == nil })
            #expect(error.issues[1].description == "--interval: must be at least 0.05 s, got 0.01 s")
            #expect(!error.description.contains("\n\n"))
        }
    }

    @Test func badEnvironmentIsNamed() {
        do {
            _ = try Settings.resolve(
                file: nil,
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254", "STATE_DIRECTORY": "state"],
                overrides: Overrides()
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.issues.map(\.key) == ["AWS_EC2_METADATA_SERVICE_ENDPOINT", "STATE_DIRECTORY"])
        }
    }

    @Test func webhookFlagsWithoutWebhookAreRefused() {
        #expect(throws: ConfigError.self) {
            try Settings.resolve(file: nil, environment: [:], overrides: Overrides(webhookSecretFile: "/s"))
        }
    }
}
