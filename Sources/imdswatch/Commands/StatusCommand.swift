import ArgumentParser
import Events
import Config
import IMDS
import Watch

/// `imdswatch status [--json]`: poll every source once and print the current state.
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
        if json {
            print(report.json.serialized())
        } else {
            print("endpoint: \(client.endpoint)")
            for line in report.lines { print(line) }
        }
        if !report.imdsAnswered {
            printError("imdswatch: \(report.diagnosis ?? "IMDS did not answer")")
            throw ExitCode.failure
        }
    }
}
