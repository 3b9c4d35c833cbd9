import ArgumentParser
import Config
import Daemon
import Events
import HTTP
import Journal
import Logging
import Telemetry
import Webhooks

/// `imdswatch config`: configuration tools.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration file.",
        subcommands: [ConfigCheckCommand.self]
    )
}

/// `imdswatch config check [FILE]`: validate a config file; errors name the key and line.
struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file; errors name the key and line.",
        discussion: """
            Without FILE, checks $CONFIGURATION_DIRECTORY/imdswatch.toml, else /etc/imdswatch/imdswatch.toml.
            Prints "FILE: OK" and a summary of the resolved settings (environment included), or each problem \
            on its own line on stderr and exits 1. Webhook secret and template files are read as the daemon \
            would read them at start.
            """
    )

    @Argument(help: ArgumentHelp("The config file to check.", valueName: "file"))
    var file: String?

    func run() async throws {
        let environment = ProcessEnvironment.current
        let path = ConfigFile.locate(explicit: file, environment: environment)
        let settings: Settings
        do {
            settings = try Settings.resolve(
                file: try path.map { path throws(ConfigError) in try ConfigFile.load(path: path) },
                environment: environment, overrides: Overrides()
            )
        } catch {
            for issue in error.issues { printError(issue.description) }
            throw ExitCode.failure
        }
        // Exactly what `run` checks at start (errors and warnings), not a copy of it.
        var logger = Logger(label: "imdswatch") { label in
            StderrLogHandler(label: label, logLevel: .warning, format: .forEnvironment(environment))
        }
        logger.logLevel = .warning
        let problems = settings.preflightProblems(logger: logger)
        guard problems.isEmpty else {
            for problem in problems { printError(problem) }
            throw ExitCode.failure
        }
        if let path {
            print("\(path): OK")
        } else {
            print("no config file at \(ConfigFile.defaultPath): the defaults apply")
        }
        printSummary(settings)
        for line in settings.autoScalingSummary(environment: environment) { print(line) }
    }

    /// A few lines of what the daemon would do with these settings.
    private func printSummary(_ settings: Settings) {
        let seconds = { (duration: Duration) -> String in
            let milliseconds =
                duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
            return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(Double(milliseconds) / 1000)s"
        }
        print(
            "  endpoint: \(settings.endpoint.map { RedactedURL.redact($0) } ?? "from AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE (default http://169.254.169.254)")"
        )
        let sources = MetadataSource.allCases.map { source in
            let entry = settings.settings(for: source)
            return entry.enabled ? "\(source.rawValue) every \(seconds(entry.interval))" : "\(source.rawValue) off"
        }
        print("  sources: \(sources.joined(separator: ", "))")
        print(
            "  hooks: \(settings.hooksDir) (timeout \(seconds(settings.hookTimeout)), \(settings.maxConcurrentEvents) events at once)"
        )
        print("  state: \(settings.stateDir)")
        print("  log: \(settings.log.target.rawValue), \(settings.log.level.rawValue)")
        print("  webhooks: \(settings.webhooks.count)")
        for endpoint in settings.webhooks {
            let events =
                endpoint.events.isEmpty
                ? "all events" : endpoint.events.map(\.rawValue).sorted().joined(separator: ", ")
            let signed = endpoint.secretFile == nil ? "" : ", signed"
            print("    \(RedactedURL.redact(endpoint.url)) (\(endpoint.format.rawValue)\(signed); \(events))")
        }
        let listen = settings.metrics.listen.map {
            "listen \($0)" + (MetricsListener.isLoopback($0.host) ? "" : " (not loopback)")
        }
        let metrics = [listen, settings.metrics.textfile.map { "textfile \($0)" }].compactMap { $0 }
        print("  metrics: \(metrics.isEmpty ? "off" : metrics.joined(separator: ", "))")
        if settings.dryRun { print("  dry run: hooks and webhooks are off") }
    }
}
