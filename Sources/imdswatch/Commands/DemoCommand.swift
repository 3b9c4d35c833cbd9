import ArgumentParser
import Daemon
import Demo

/// `imdswatch demo`: the whole product on a machine with no EC2 (see ``Demo``). Only parses flags and maps the
/// outcome to an exit status.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show the whole product on this machine: a simulated IMDS, the watcher, the example hooks.",
        discussion: """
            Starts an IMDSv2 simulator on 127.0.0.1 (never the real IMDS), the watcher, and the shipped example \
            hooks with fake systemctl, docker, aws, wall and logger commands that only record how they were called, \
            all in a temporary directory. Plays a scenario that fires every event type (tags, Auto Scaling, \
            maintenance scheduled/changed/cleared, rebalance, spot interruption) and prints a timeline and a \
            summary. Exits 0 when every expected event fired and every hook exited 0, else 1.
            """
    )

    @Flag(help: "Keep the temporary directory (hooks, fakes, state, calls.log, imdswatch.log) and print its path.")
    var keep = false

    @Flag(help: "No pauses between the scenario's steps.")
    var fast = false

    func run() async throws {
        let outcome: Demo.Outcome
        do {
            outcome = try await Demo(keep: keep, pace: fast ? .zero : .milliseconds(800)).run()
        } catch let interruption as DemoInterruption {
            printError("imdswatch demo: \(interruption)")
            throw ExitCode(130)
        }
        if !outcome.succeeded { throw ExitCode(1) }
    }
}
