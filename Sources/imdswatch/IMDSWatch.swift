import ArgumentParser

/// The `imdswatch` command line: parses flags and wires the modules together; no logic of its own.
@main
struct IMDSWatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imdswatch",
        abstract: "Watch the EC2 Instance Metadata Service (IMDSv2) for lifecycle events and act on them.",
        version: IMDSWatchVersion.current,
        subcommands: [
            RunCommand.self, StatusCommand.self, GetCommand.self, HooksCommand.self,
            SimulateCommand.self, DemoCommand.self, ConfigCommand.self,
        ]
    )
}

/// The version reported by `--version` and in the webhooks' `User-Agent`.
enum IMDSWatchVersion {
    static let current = "0.1.0"
}
