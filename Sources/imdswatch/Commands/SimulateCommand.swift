import ArgumentParser
import Daemon
import Dispatch
import Foundation
import Simulator

/// `imdswatch simulate --listen HOST:PORT [--scenario FILE] [--style real|aemm] [--connection-limit N]
/// [--listen-backlog N]`: a local IMDSv2 simulator.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a local IMDSv2 simulator with a control API under /_sim/.",
        discussion: """
            Serves the lifecycle paths of the Instance Metadata Service with strict IMDSv2 tokens on a loopback \
            address. Change it with the control API (curl http://HOST:PORT/_sim/state) or a scenario file. \
            Runs until SIGINT or SIGTERM, also after a scenario has ended. See docs/simulator.md.
            """
    )

    @Option(name: .long, help: "Address to listen on: 127.0.0.1:PORT or [::1]:PORT (port 0 picks a free one).")
    var listen = "127.0.0.1:1338"

    @Option(name: .long, help: "A scenario file (JSON timeline) to play once the simulator is ready.")
    var scenario: String?

    @Option(name: .long, help: "Response style: real (the EC2 service) or aemm (amazon-ec2-metadata-mock).")
    var style: ResponseStyle = .real

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Accept at most N connections open at once; later ones wait in the listen backlog, then time out (default: no limit).",
            valueName: "N"))
    var connectionLimit: Int?

    @Option(
        name: .long,
        help: ArgumentHelp("The listen backlog: connections queued before they are accepted.", valueName: "N"))
    var listenBacklog = ListenerLimits().backlog

    func validate() throws {
        if let connectionLimit, connectionLimit < 1 {
            throw ValidationError("--connection-limit must be at least 1, got \(connectionLimit)")
        }
        if listenBacklog < 0 { throw ValidationError("--listen-backlog must be at least 0, got \(listenBacklog)") }
    }

    func run() async throws {
        guard let (host, port) = Self.parseListen(listen) else {
            printError(
                "imdswatch: invalid --listen value \"\(listen)\": expected HOST:PORT, e.g. 127.0.0.1:1338 or [::1]:1338"
            )
            throw ExitCode.validationFailure
        }
        var timeline: Scenario?
        if let scenario {
            do {
                timeline = try Scenario.load(path: scenario)
            } catch {
                printError("imdswatch: \(error.message)")
                throw ExitCode.validationFailure
            }
        }
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let simulator: IMDSSimulator
        do {
            simulator = try await IMDSSimulator.start(
                host: host, port: port, state: SimulatorState(style: style),
                limits: ListenerLimits(backlog: listenBacklog, connectionLimit: connectionLimit)
            )
        } catch {
            printError("imdswatch: cannot listen on \(listen): \(error)")
            throw ExitCode.failure
        }
        print("imdswatch simulator listening on \(simulator.baseURL)")
        fflush(nil)

        let playback = timeline.map { timeline in
            Task {
                do {
                    try await simulator.play(timeline) { step in
                        printError("imdswatch simulator: t=\(step.at)s \(step.note ?? "step")")
                    }
                    printError("imdswatch simulator: scenario finished; still serving until SIGINT or SIGTERM")
                } catch is CancellationError {
                } catch {
                    printError("imdswatch simulator: scenario stopped: \(error)")
                }
            }
        }
        await signals.wait()
        playback?.cancel()
        try await simulator.stop()
    }

    /// Splits `HOST:PORT` or `[V6]:PORT`; `nil` when malformed or the port is out of range.
    static func parseListen(_ value: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            host = value[value.index(after: value.startIndex)..<close]
            let rest = value[value.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
        } else {
            guard let colon = value.lastIndex(of: ":") else { return nil }
            host = value[..<colon]
            portText = value[value.index(after: colon)...]
            if host.contains(":") { return nil }
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else { return nil }
        return (String(host), port)
    }
}

extension ResponseStyle: ExpressibleByArgument {}

/// Waits for the first of some signals, which are ignored by default handling so the process can stop cleanly.
final class SignalWaiter: @unchecked Sendable { // immutable after init; dispatch sources are thread-safe
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Int32>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        self.stream = stream
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Returns when one of the signals arrives.
    func wait() async {
        for await _ in stream { return }
    }

    /// The next signal that arrives (`nil` when the calling task is cancelled first).
    func next() async -> Int32? {
        for await number in stream { return number }
        return nil
    }
}
