import ArgumentParser
import Config
import Journal
import Logging
import Daemon

/// `imdswatch run`: the daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Poll IMDS, detect changes, run hooks, log, send webhooks, until SIGTERM/SIGINT."
    )

    @OptionGroup var imds: IMDSOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        ProcessSignals.unblockTerminationSignals()
        let settings = try common.loadSettings(imds: imds)
        LoggingBootstrap.bootstrap(target: settings.log.target, level: settings.log.level)
        let logger = Logger(label: "imdswatch")
        try await Daemon(settings: settings, logger: logger).run()
    }
}
