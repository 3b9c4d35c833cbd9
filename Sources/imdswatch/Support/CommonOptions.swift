import ArgumentParser
import Config
import Daemon
import Journal
import Webhooks

/// Options shared by the commands that read the configuration (`run`, `status`, `hooks`, `demo`…).
///
/// Commands that also read IMDS take ``IMDSOptions`` beside these and pass it to ``settings(imds:environment:)``.
struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Config file (default: $CONFIGURATION_DIRECTORY/imdswatch.toml, else /etc/imdswatch/imdswatch.toml, if present).",
            valueName: "file"
        ))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Hooks directory (default: /etc/imdswatch/hooks.d).", valueName: "dir"))
    var hooksDir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Persisted state and webhook outbox (default: $STATE_DIRECTORY, else /var/lib/imdswatch).", valueName: "dir"
        ))
    var stateDir: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Poll interval of every source in seconds, at least 0.05 (default: per source, spot 1, rebalance and asg 5, maintenance and tags 60).",
            valueName: "seconds"
        ))
    var interval: Double?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds allowed per hook, then SIGTERM, SIGKILL 5 s later (default: 90).", valueName: "seconds"
        ))
    var hookTimeout: Double?

    @Option(
        name: .long,
        help: ArgumentHelp("Send events to this URL (repeatable), added to the config file's.", valueName: "url"))
    var webhook: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "HMAC key for X-Imdswatch-Signature-256 of the --webhook URLs.", valueName: "file"
        ))
    var webhookSecretFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Body format of the --webhook URLs: json, cloudevents or slack (default: json).", valueName: "format"))
    var webhookFormat: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "auto, journal or stderr (default: auto = the journal when started by systemd, else stderr).",
            valueName: "target"
        ))
    var logTarget: String?

    @Flag(name: .long, help: "Detect and log, but run no hook and send no webhook.")
    var dryRun = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Complete this Auto Scaling termination lifecycle hook after the hooks of a Terminated state.",
            valueName: "name"))
    var asgTerminationHook: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Complete this Auto Scaling launch lifecycle hook after the hooks of an InService or Warmed:* state.",
            valueName: "name"))
    var asgLaunchHook: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve Prometheus metrics on GET http://ADDR:PORT/metrics (run only; default: [metrics] listen, else off).",
            valueName: "addr:port"
        ))
    var metricsListen: String?

    /// Checks each flag on its own; one line per bad flag, naming it.
    func validate() throws {
        do {
            _ = try Settings.resolve(file: nil, environment: [:], overrides: overrides(imds: nil))
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The flags as ``Overrides``.
    /// - Parameter imds: The IMDS options of the command, if it has them.
    /// - Returns: Every flag given, typed.
    /// - Throws: ``ConfigError`` naming each flag whose value is not one of its choices or not a number of seconds.
    func overrides(imds: IMDSOptions?) throws(ConfigError) -> Overrides {
        var issues: [ConfigIssue] = []
        func seconds(_ value: Double?, _ flag: String) -> Duration? {
            guard let value else { return nil }
            guard value.isFinite, value >= 0, value <= 86400 else {
                issues.append(ConfigIssue(key: flag, message: "expected seconds between 0 and 86400, got \(value)"))
                return nil
            }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        func choice<Choice: RawRepresentable & CaseIterable>(
            _ value: String?, _ flag: String, _ type: Choice.Type, allowed: [Choice]
        ) -> Choice?
        where Choice.RawValue == String {
            guard let value else { return nil }
            guard let result = Choice(rawValue: value), allowed.contains(where: { $0.rawValue == value }) else {
                let names = allowed.map(\.rawValue).joined(separator: ", ")
                issues.append(ConfigIssue(key: flag, message: "expected one of \(names), got \"\(value)\""))
                return nil
            }
            return result
        }
        var result = Overrides(
            endpoint: imds?.endpoint,
            imdsTimeout: seconds(imds?.imdsTimeout, "--imds-timeout"),
            hooksDir: hooksDir,
            stateDir: stateDir,
            interval: seconds(interval, "--interval"),
            hookTimeout: seconds(hookTimeout, "--hook-timeout"),
            webhooks: webhook,
            webhookSecretFile: webhookSecretFile,
            webhookFormat: choice(
                webhookFormat, "--webhook-format", WebhookFormat.self, allowed: [.json, .cloudevents, .slack]),
            logTarget: choice(logTarget, "--log-target", LogTarget.self, allowed: LogTarget.allCases),
            dryRun: dryRun ? true : nil,
            asgTerminationHook: asgTerminationHook,
            asgLaunchHook: asgLaunchHook
        )
        result.metricsListen = metricsListen
        if !issues.isEmpty { throw ConfigError(issues: issues) }
        return result
    }

    /// Finds and reads the config file, then resolves every setting with the environment and these flags.
    /// - Parameters:
    ///   - imds: The command's IMDS options (`--endpoint`, `--imds-timeout`), if it reads IMDS.
    ///   - environment: The process environment.
    /// - Returns: The resolved settings.
    /// - Throws: ``ConfigError`` with every problem of the file, the environment and the flags.
    func settings(imds: IMDSOptions?, environment: [String: String] = ProcessEnvironment.current) throws(ConfigError)
        -> Settings
    {
        let overrides = try overrides(imds: imds)
        return try Settings.load(configPath: config, environment: environment, overrides: overrides)
    }

    /// ``settings(imds:environment:)`` for a command's `run()`: on error, prints each problem on its own line
    /// to stderr and exits 2.
    /// - Parameter imds: The command's IMDS options, if it reads IMDS.
    /// - Returns: The resolved settings.
    /// - Throws: `ExitCode(2)` after printing the problems.
    func loadSettings(imds: IMDSOptions?) throws -> Settings {
        do {
            return try settings(imds: imds)
        } catch {
            for issue in error.issues { printError("imdswatch: \(issue)") }
            throw ExitCode(2)
        }
    }
}
