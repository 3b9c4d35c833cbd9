import ArgumentParser
import Config
import Daemon
import Events
import IMDS
import Lifecycle
import Logging
import Watch

/// `imdswatch status [--json]`: poll every source once and print the current state, then each event-journal
/// consumer's backlog in the state directory (``ConsumerBacklog``: what it has not taken or finished, and whether it
/// is stuck).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Poll every source once and print the current state.",
        discussion: "Exits 0 when IMDS answered, 1 with a one-line diagnosis when it did not."
    )

    @OptionGroup var imds: IMDSOptions
    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        let settings = try common.loadSettings(imds: imds)
        let client = try settings.makeIMDSClient()
        let report = await PollReport.collect(sources: settings.enabledSources, from: client)
        let asg =
            settings.asg.isEnabled
            ? await settings.lifecycleContext(
                imds: client, logger: Logger(label: "imdswatch.status") { _ in SwiftLogNoOpLogHandler() }
            )
            .readinessLines(settings: settings.asg, allowAPI: true)
            : []
        let backlog = ConsumerBacklog.collect(settings: settings)
        if json {
            var document = report.json
            if case .object(var members) = document {
                if settings.asg.isEnabled { members.append(("asg", .array(asg.map { .string($0.text) }))) }
                members.append(("consumers", backlog.json))
                document = .object(members)
            }
            print(document.serialized())
        } else {
            print("endpoint: \(client.endpoint)")
            for line in report.lines { print(line) }
            for line in asg { print(line.text) }
            for line in backlog.lines { print(line) }
        }
        if !report.imdsAnswered {
            printError("imdswatch: \(report.diagnosis ?? "IMDS did not answer")")
            throw ExitCode.failure
        }
    }
}
