import ArgumentParser

// Commands that later issues fill in. Each moves to its own file when implemented.

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Run the demo (not yet implemented).")
    func run() async throws { throw ValidationError("imdswatch demo is not implemented yet") }
}
