import Journal
import Logging
import ServiceLifecycle
import Watch

/// Tells systemd how the daemon is doing: READY=1 after the first completed round of polls (whether IMDS answered or
/// not), STATUS= when the set of failing sources changes or at most once a second, and STOPPING=1 on shutdown.
/// (The poll loop beats the watchdog's heartbeat itself; this service reads only the rounds it is shown.)
struct SystemdReporter: Service {
    let notifier: SystemdNotifier
    let rounds: AsyncStream<PollerStatus>
    /// Extra parts of the STATUS= line (hooks running, webhooks pending), asked for after each round.
    let extraStatus: @Sendable () async -> String
    let logger: Logger
    /// Whether a graceful shutdown is a reload's (a new reporter takes over: no STOPPING=1) rather than a stop.
    var isReloading: @Sendable () -> Bool = { false }

    /// The longest a STATUS= line may stay stale while nothing but the round counter changes (the poller's
    /// `roundReportInterval`).
    static let statusRefresh = Duration.seconds(1)

    func run() async throws {
        var ready = false
        await withGracefulShutdownHandler {
            // The poller shows only the first round, rounds that change which sources fail, and at most one other
            // per `statusRefresh` (its `roundReportInterval`), so every round seen here is worth a STATUS= line.
            for await status in rounds.cancelOnGracefulShutdown() {
                if ready, !notifier.isEnabled { continue }
                let extra = await extraStatus()
                let line = extra.isEmpty ? status.summary : "\(status.summary); \(extra)"
                do {
                    if !ready {
                        ready = true
                        try notifier.ready(status: line)
                        logger.info("first round of polls finished: \(line)")
                    } else {
                        try notifier.status(line)
                    }
                } catch {
                    logger.warning("could not notify systemd: \(error)")
                }
            }
        } onGracefulShutdown: {
            if !isReloading() { _ = try? notifier.stopping() }
        }
    }
}

/// Runs the watchdog pinger (WATCHDOG=1 at half of WatchdogSec, only while the poll loop's heartbeat advances).
struct WatchdogService: Service {
    let pinger: WatchdogPinger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await pinger.run(clock: ContinuousClock())
        }
    }
}
