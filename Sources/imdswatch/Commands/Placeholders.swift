import ArgumentParser

// Commands that later issues fill in. Each moves to its own file when implemented.

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the daemon (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch run is not implemented yet") }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Poll every source once (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch status is not implemented yet") }
}

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Run the IMDS simulator (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch simulate is not implemented yet") }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the demo (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch demo is not implemented yet") }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Validate a config file (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch config is not implemented yet") }
}
