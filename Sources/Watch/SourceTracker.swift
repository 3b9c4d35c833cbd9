import Events
import IMDS
import Logging

/// One source's poll history: what the status snapshot shows and what the log rate limits need.
struct SourceTracker<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    var lastPollMilliseconds: Int64?
    var lastObservation: Observation?
    var consecutiveFailures = 0
    var notConfigured = false
    var lastErrorLog: Instant?

    /// Whether the `failures`-th consecutive failure is logged: the 1st, 10th, 100th, … and otherwise when the last
    /// logged one is at least `reminder` old.
    static func shouldLogFailure(_ failures: Int, lastLogged: Instant?, now: Instant, reminder: Duration) -> Bool {
        if failures <= 1 { return true }
        var power = 10
        while power < failures, power <= Int.max / 10 { power *= 10 }
        if power == failures { return true }
        guard let lastLogged else { return true }
        return lastLogged.duration(to: now) >= reminder
    }
}

extension Poller {
    /// Updates the source's tracker and logs what deserves a line.
    /// - Returns: True when the source is absent by design and should be polled slowly.
    func track(_ source: MetadataSource, _ observation: Observation, at milliseconds: Int64) -> Bool {
        var tracker = trackers[source] ?? SourceTracker()
        defer { trackers[source] = tracker }
        tracker.lastPollMilliseconds = milliseconds
        tracker.lastObservation = observation
        // Built only when a line is logged: most polls log nothing.
        var metadata: Logger.Metadata { ["source": "\(source.rawValue)", "path": "\(source.path)"] }
        if case .failed(let error) = observation {
            // A read cancelled by shutdown says nothing about IMDS: no failure counted, no line logged.
            if error.code == .cancelled { return tracker.notConfigured }
            tracker.consecutiveFailures += 1
            let now = clock.now
            let count = tracker.consecutiveFailures
            if SourceTracker.shouldLogFailure(
                count, lastLogged: tracker.lastErrorLog, now: now,
                reminder: configuration.errorReminderInterval)
            {
                tracker.lastErrorLog = now
                let repeated = count == 1 ? "" : " (\(count) consecutive failures)"
                logger.warning(
                    "cannot read \(source.path): \(error.message)\(repeated); keeping the last known state",
                    metadata: metadata.merging(["error_code": "\(error.code.rawValue)", "failures": "\(count)"]) { $1 }
                )
            }
            return tracker.notConfigured
        }
        if tracker.consecutiveFailures > 0 {
            logger.notice(
                "\(source.path) readable again after \(tracker.consecutiveFailures) failed read\(tracker.consecutiveFailures == 1 ? "" : "s")",
                metadata: metadata
            )
            tracker.consecutiveFailures = 0
            tracker.lastErrorLog = nil
        }
        let absent = observation == .absent
        if source.absentMeansNotConfigured {
            if absent, !tracker.notConfigured {
                let seconds = configuration.notConfiguredInterval.components.seconds
                logger.info(
                    "\(source.path) is absent: \(source.absentReason); checking again every \(seconds) s",
                    metadata: metadata)
            } else if !absent, tracker.notConfigured {
                logger.info(
                    "\(source.path) is present now; polling it every \(configuration[source].interval)",
                    metadata: metadata)
            }
            tracker.notConfigured = absent
        }
        return tracker.notConfigured
    }
}
