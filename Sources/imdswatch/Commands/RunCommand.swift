import ArgumentParser
import Config
import Daemon
import Journal
import Logging

/// `imdswatch run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract:
            "Poll IMDS, detect changes, run hooks, log, send webhooks, until SIGTERM/SIGINT; SIGHUP reloads the configuration."
    )

    @OptionGroup var imds: IMDSOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        ProcessSignals.unblockTerminationSignals()
        let settings = try common.loadSettings(imds: imds)
        let levelSwitch = LogLevelSwitch(settings.log.level)
        LoggingBootstrap.bootstrap(target: settings.log.target, level: settings.log.level, levelSwitch: levelSwitch)
        let logger = Logger(label: "imdswatch")
        if let shortfall = DescriptorLimit.raiseAndCheckFloor(logger: logger) {
            printError("imdswatch: \(shortfall)")
            throw ExitCode.failure
        }
        // SIGHUP reads the same file, environment and flags again (the flags still override the file).
        let (configPath, overrides) = (common.config, try common.overrides(imds: imds))
        try await Daemon(settings: settings, logger: logger).run(
            reloadingWith: { () throws(ConfigError) -> Settings in
                try Settings.load(configPath: configPath, environment: ProcessEnvironment.current, overrides: overrides)
            },
            levelSwitch: levelSwitch
        )
    }
}
