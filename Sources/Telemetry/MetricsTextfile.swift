import Durability
import Events
import Logging
import ServiceLifecycle

/// Writes the exposition to a file for node_exporter's textfile collector: at start, every ``interval``, after each
/// event and once more at shutdown. Each write replaces the file atomically (the injected writer writes a temporary
/// file in the same directory and renames it), so the collector never reads a partial file.
package struct MetricsTextfile<ClockType: Clock<Duration>>: Service {
    /// Replaces the file at `path` with `bytes`, atomically.
    package typealias Writer = @Sendable (_ bytes: [UInt8], _ path: String) throws -> Void

    /// How often the file is rewritten when nothing happens: 5 s.
    package static var defaultInterval: Duration { .seconds(5) }

    private let path: String
    private let exposition: MetricsExposition
    private let interval: Duration
    private let clock: ClockType
    private let write: Writer
    private let logger: Logger

    /// Creates a writer; writes nothing until ``run()``.
    /// - Parameters:
    ///   - path: The file (node_exporter reads `*.prom` files in its `--collector.textfile.directory`).
    ///   - exposition: What is written.
    ///   - interval: Time between two writes when no event happens.
    ///   - clock: Paces the writes.
    ///   - write: The atomic writer (the state store's in the daemon).
    ///   - logger: A failed write is logged at error once, and its recovery at notice.
    package init(
        path: String, exposition: MetricsExposition, interval: Duration = .seconds(5), clock: ClockType,
        write: @escaping Writer, logger: Logger
    ) {
        self.path = path
        self.exposition = exposition
        self.interval = interval
        self.clock = clock
        self.write = write
        self.logger = logger
    }

    /// Writes until graceful shutdown or cancellation, then writes a last time.
    /// - Throws: Never: write failures are logged and retried at the next write.
    package func run() async throws {
        var failing = false
        await writeOnce(failing: &failing)
        let (clock, interval, exposition) = (clock, interval, exposition)
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    do { try await clock.sleep(for: interval) } catch { return }
                    wake.yield()
                }
            }
            group.addTask {
                for await _ in exposition.changes { wake.yield() }
            }
            await withTaskCancellationOrGracefulShutdownHandler {
                for await _ in wakes { await writeOnce(failing: &failing) }
            } onCancelOrGracefulShutdown: {
                wake.finish()
            }
            group.cancelAll()
        }
        await writeOnce(failing: &failing)
    }

    private func writeOnce(failing: inout Bool) async {
        let bytes = await exposition.render()
        do {
            try write(bytes, path)
            if failing { logger.notice("metrics textfile written again", metadata: ["path": "\(path)"]) }
            failing = false
        } catch {
            if !failing {
                logger.error(
                    "cannot write the metrics textfile: \(error); retrying at each write", metadata: ["path": "\(path)"]
                )
            }
            failing = true
        }
    }
}

/// The metrics textfile cannot be used.
package struct MetricsTextfileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One sentence naming the path at fault.
    package var message: String

    package var description: String { message }

    /// Refuses a textfile whose directory someone other than root or the daemon's user could change (the walk the
    /// state directory gets, ``TrustedPath``): root would otherwise create and rename files in a directory another
    /// user controls, or reach it through their symlink.
    /// - Parameters:
    ///   - path: The textfile; its parent directory is walked (judged by its nearest existing ancestor when missing).
    ///   - trusted: The walker (trusting root and the effective user by default).
    /// - Throws: ``MetricsTextfileError`` naming the textfile and the component at fault.
    package static func checkDirectory(of path: String, trusted: TrustedPath = TrustedPath())
        throws(MetricsTextfileError)
    {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        if let problem = trusted.problem(withDirectory: directory) {
            throw MetricsTextfileError(message: "refusing to write the metrics textfile \(path): \(problem)")
        }
    }
}
