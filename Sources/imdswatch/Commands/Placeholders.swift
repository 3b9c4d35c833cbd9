import ArgumentParser

// Commands that later issues fill in. Each moves to its own file when implemented.

struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hooks", abstract: "List or test hooks (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch hooks is not implemented yet") }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the demo (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch demo is not implemented yet") }
}
