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

struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "List or test hooks (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch hooks is not implemented yet") }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the demo (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch demo is not implemented yet") }
}
