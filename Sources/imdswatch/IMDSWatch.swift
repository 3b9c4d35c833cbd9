import ArgumentParser
import Daemon

/// The `imdswatch` command line: parses flags and wires the modules together; no logic of its own.
///
/// The daemon's parts come from the `Daemon` module, which never sees the simulator: only `simulate` and `demo`
/// (the `Demo` module) import `Simulator`.
@main
struct IMDSWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imdswatch",
        abstract: "Watch the EC2 Instance Metadata Service (IMDSv2) for lifecycle events and act on them.",
        version: IMDSWatchVersion.description,
        subcommands: [
            RunCommand.self, StatusCommand.self, GetCommand.self, HooksCommand.self,
            SimulateCommand.self, DemoCommand.self, ConfigCommand.self,
        ]
    )
}
