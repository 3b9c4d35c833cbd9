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

    /// The longest a STATUS= line may stay stale while nothing but the round counter changes.
    static let statusRefresh = Duration.seconds(1)

    func run() async throws {
        var ready = false
        var lastFailing: [WatchSource] = []
        var lastSent = ContinuousClock.now
        await withGracefulShutdownHandler {
            for await status in rounds.cancelOnGracefulShutdown() {
                let now = ContinuousClock.now
                if ready {
                    // At short intervals rounds come many times a second: STATUS= goes out at once when the set of
                    // failing sources changes, otherwise at most once a second, and is not built at all without systemd.
                    guard notifier.isEnabled else { continue }
                    guard status.failingSources != lastFailing || now - lastSent >= Self.statusRefresh else { continue }
                }
                lastFailing = status.failingSources
                lastSent = now
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
            _ = try? notifier.stopping()
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
