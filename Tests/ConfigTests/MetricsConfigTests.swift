import Testing

@testable import Config

@Suite struct MetricsConfigTests {
    @Test func parsesListenAndTextfile() throws {
        let file = try ConfigFile.parse(
            """
            [metrics]
            listen = "127.0.0.1:9092"
            textfile = "/var/lib/node_exporter/textfile_collector/imdswatch.prom"
            """, path: "imdswatch.toml")
        let settings = try Settings.resolve(file: file, environment: [:], overrides: Overrides())
        #expect(settings.metrics.listen == Settings.ListenAddress(host: "127.0.0.1", port: 9092))
        #expect(settings.metrics.textfile == "/var/lib/node_exporter/textfile_collector/imdswatch.prom")
    }

    @Test func offByDefault() throws {
        let settings = try Settings.resolve(
            file: ConfigFile.parse("interval = 2\n", path: "x"), environment: [:], overrides: Overrides())
        #expect(settings.metrics == Settings.MetricsSettings())
    }

    @Test func ipv6AndPortZero() throws {
        #expect(try Settings.ListenAddress.parse("[::1]:0").get() == Settings.ListenAddress(host: "::1", port: 0))
        #expect(Settings.ListenAddress(host: "::1", port: 9092).description == "[::1]:9092")
    }

    @Test func flagOverridesTheFile() throws {
        let file = try ConfigFile.parse("[metrics]\nlisten = \"127.0.0.1:9092\"\n", path: "x")
        var overrides = Overrides()
        overrides.metricsListen = "0.0.0.0:9100"
        let settings = try Settings.resolve(file: file, environment: [:], overrides: overrides)
        #expect(settings.metrics.listen == Settings.ListenAddress(host: "0.0.0.0", port: 9100))
    }

    @Test func badFlagIsNamed() {
        var overrides = Overrides()
        overrides.metricsListen = "9092"
        #expect(throws: ConfigError.self) { try Settings.resolve(file: nil, environment: [:], overrides: overrides) }
        do {
            _ = try Settings.resolve(file: nil, environment: [:], overrides: overrides)
        } catch {
            #expect(error.issues.first?.key == "--metrics-listen")
        }
    }

    @Test func badListenNamesKeyAndLine() throws {
        let issue = try onlyIssue("interval = 2\n\n[metrics]\nlisten = \"127.0.0.1:99999\"\n")
        #expect(issue.key == "metrics.listen")
        #expect(issue.line == 4)
        #expect(issue.message == #"expected a port 0-65535 after the host, got "127.0.0.1:99999""#)
    }

    @Test func listenWithoutPortIsRefused() throws {
        let issue = try onlyIssue("[metrics]\nlisten = \"localhost\"\n")
        #expect(issue.key == "metrics.listen")
        #expect(issue.line == 2)
    }

    @Test func relativeTextfileIsRefused() throws {
        let issue = try onlyIssue("[metrics]\ntextfile = \"imdswatch.prom\"\n")
        #expect(issue.key == "metrics.textfile")
        #expect(issue.line == 2)
    }

    @Test func unknownMetricsKeySuggests() throws {
        let issue = try onlyIssue("[metrics]\nlisten_address = \"127.0.0.1:9092\"\n")
        #expect(issue.key == "metrics.listen_address")
        #expect(issue.line == 2)
    }

    @Test func wrongTypeIsRefused() throws {
        let issue = try onlyIssue("[metrics]\nlisten = 9092\n")
        #expect(issue.key == "metrics.listen")
    }
}
