import Config
import Durability
import Events
import Lifecycle
import Webhooks

/// Each event-journal consumer's backlog as `imdswatch status` shows it, read from the state directory without
/// changing it: events the journal holds that the consumer has not acknowledged, what waits in its own store
/// (`hooks-pending/`, `outbox/` per webhook endpoint), and whether it is stuck.
///
/// Stuck: an event not taken from the journal for ``stuckAfter`` (the consumer, or the daemon, is not running), or a
/// webhook endpoint whose oldest delivery has failed and is older than ``stuckAfter``. A stuck consumer is bounded by
/// its own limits (a webhook delivery is dropped at the endpoint's `max_age`) and never holds up the others.
package struct ConsumerBacklog: Sendable {
    /// How long a backlog may wait before it is called stuck.
    package static let stuckAfter: Duration = .seconds(60)

    /// One webhook endpoint's pending deliveries.
    package struct Endpoint: Sendable, Equatable {
        /// The URL, redacted as in the logs.
        package var url: String
        /// Deliveries waiting.
        package var pending: Int
        /// Age of the oldest, in milliseconds.
        package var oldestAgeMilliseconds: Int64?
        /// Attempts made at the oldest.
        package var attempts: Int
        /// When the oldest is dropped (created + `max_age`), in milliseconds since the Unix epoch.
        package var givesUpAtMilliseconds: Int64?
        /// Whether the endpoint is stuck.
        package var stuck: Bool
    }

    /// One consumer.
    package struct Consumer: Sendable, Equatable {
        /// Its journal name.
        package var name: String
        /// Events the journal holds that it has not acknowledged.
        package var unacknowledged: Int
        /// Age of the oldest of them, in milliseconds.
        package var oldestUnacknowledgedAgeMilliseconds: Int64?
        /// Items in its own store (hook sequences, webhook deliveries; lifecycle: none counted here).
        package var pending: Int
        /// Age of the oldest item in its store, in milliseconds, when known.
        package var oldestPendingAgeMilliseconds: Int64?
        /// Why it is stuck, or `nil`.
        package var stuck: String?
        /// Webhook endpoints (the `webhooks` consumer only).
        package var endpoints: [Endpoint] = []
    }

    /// The consumers, in the daemon's order; empty when ``problem`` is set.
    package var consumers: [Consumer] = []
    /// Why the state directory could not be read.
    package var problem: String?

    /// Reads the backlog of the consumers these settings configure.
    /// - Parameters:
    ///   - settings: State directory and webhooks.
    ///   - nowMilliseconds: The time ages are measured at (the system clock by default).
    package static func collect(settings: Settings, nowMilliseconds: Int64? = nil) -> ConsumerBacklog {
        let now = nowMilliseconds ?? SystemWallClock().now()
        var roles = [
            JournalBacklog.Role(name: LifecycleActions.journalName) { $0.type == .asgLifecycleState },
            JournalBacklog.Role(name: EventSinks.hooksConsumer),
        ]
        if !settings.webhooks.isEmpty { roles.append(JournalBacklog.Role(name: EventSinks.webhooksConsumer)) }
        let stuckMilliseconds = Self.milliseconds(stuckAfter)
        do throws(SafeFile.Failure) {
            let journal = try JournalBacklog.read(directory: settings.stateDir, roles: roles)
            let hooksPending =
                try SafeFile.kind(of: settings.stateDir + "/hooks-pending") == nil
                ? 0
                : SafeFile.entries(of: settings.stateDir + "/hooks-pending").filter {
                    $0.hasSuffix(".json") && !SafeFile.isTemporaryName($0)
                }.count
            let outbox = try WebhookOutbox.pendingEntries(in: settings.stateDir + "/outbox")
            var report = ConsumerBacklog()
            for owed in journal.owed {
                let age = owed.oldestDetectedAtMilliseconds.map { max(0, now - $0) }
                var consumer = Consumer(
                    name: owed.consumer, unacknowledged: owed.events, oldestUnacknowledgedAgeMilliseconds: age,
                    pending: 0)
                if let age, age >= stuckMilliseconds {
                    consumer.stuck =
                        "\(owed.events) events not taken from the journal for \(Self.describe(age)) (is the daemon running?)"
                }
                if owed.consumer == EventSinks.hooksConsumer { consumer.pending = hooksPending }
                if owed.consumer == EventSinks.webhooksConsumer {
                    consumer.endpoints = settings.webhooks.map { endpoint in
                        let entries = outbox.filter { $0.endpointID == endpoint.id }
                        let oldest = entries.min { $0.createdAtMilliseconds < $1.createdAtMilliseconds }
                        let age = oldest.map { max(0, now - $0.createdAtMilliseconds) }
                        return Endpoint(
                            url: endpoint.redactedURL, pending: entries.count, oldestAgeMilliseconds: age,
                            attempts: oldest?.attempts ?? 0,
                            givesUpAtMilliseconds: oldest.map {
                                $0.createdAtMilliseconds + Self.milliseconds(endpoint.maxAge)
                            },
                            stuck: (oldest?.attempts ?? 0) > 0 && (age ?? 0) >= stuckMilliseconds
                        )
                    }
                    consumer.pending = consumer.endpoints.reduce(0) { $0 + $1.pending }
                    consumer.oldestPendingAgeMilliseconds = consumer.endpoints.compactMap(\.oldestAgeMilliseconds).max()
                    if consumer.stuck == nil, let stuck = consumer.endpoints.first(where: \.stuck) {
                        consumer.stuck =
                            "\(stuck.url) has not accepted a delivery for \(Self.describe(stuck.oldestAgeMilliseconds ?? 0)) "
                            + "(\(stuck.attempts) attempts); its deliveries are dropped at max_age"
                    }
                }
                report.consumers.append(consumer)
            }
            return report
        } catch {
            return ConsumerBacklog(problem: "cannot read the state directory: \(error)")
        }
    }

    /// The text lines of `imdswatch status`.
    package var lines: [String] {
        if let problem { return ["consumers: \(problem)"] }
        var lines: [String] = []
        for consumer in consumers {
            var parts: [String] = []
            if consumer.unacknowledged > 0 {
                parts.append(
                    "\(consumer.unacknowledged) events not yet taken (oldest \(Self.describe(consumer.oldestUnacknowledgedAgeMilliseconds ?? 0)))"
                )
            }
            if consumer.pending > 0 {
                let what = consumer.name == EventSinks.hooksConsumer ? "hook sequences" : "deliveries"
                parts.append(
                    "\(consumer.pending) \(what) pending"
                        + (consumer.oldestPendingAgeMilliseconds.map { " (oldest \(Self.describe($0)))" } ?? ""))
            }
            var line =
                "consumer \(consumer.name): " + (parts.isEmpty ? "nothing pending" : parts.joined(separator: ", "))
            if let stuck = consumer.stuck { line += "; STUCK: \(stuck)" }
            lines.append(line)
            for endpoint in consumer.endpoints where endpoint.pending > 0 {
                var text =
                    "  webhook \(endpoint.url): \(endpoint.pending) pending, oldest \(Self.describe(endpoint.oldestAgeMilliseconds ?? 0)), \(endpoint.attempts) attempts"
                if let limit = endpoint.givesUpAtMilliseconds {
                    text += ", dropped at \(Timestamp.rfc3339(seconds: limit / 1000)) (max_age)"
                }
                if endpoint.stuck { text += "; STUCK" }
                lines.append(text)
            }
        }
        return lines
    }

    /// The `consumers` member of `imdswatch status --json` (an object with `error` when the directory was unreadable).
    package var json: JSONValue {
        if let problem { return ["error": .string(problem)] }
        func seconds(_ milliseconds: Int64?) -> JSONValue { milliseconds.map { .number(Double($0) / 1000) } ?? .null }
        return .array(
            consumers.map { consumer in
                .object([
                    ("name", .string(consumer.name)),
                    ("unacknowledged", .number(Double(consumer.unacknowledged))),
                    ("oldest_unacknowledged_age_seconds", seconds(consumer.oldestUnacknowledgedAgeMilliseconds)),
                    ("pending", .number(Double(consumer.pending))),
                    ("oldest_pending_age_seconds", seconds(consumer.oldestPendingAgeMilliseconds)),
                    ("stuck", .bool(consumer.stuck != nil)),
                    ("stuck_reason", consumer.stuck.map(JSONValue.string) ?? .null),
                    (
                        "endpoints",
                        .array(
                            consumer.endpoints.map { endpoint in
                                .object([
                                    ("url", .string(endpoint.url)),
                                    ("pending", .number(Double(endpoint.pending))),
                                    ("oldest_age_seconds", seconds(endpoint.oldestAgeMilliseconds)),
                                    ("attempts", .number(Double(endpoint.attempts))),
                                    (
                                        "gives_up_at",
                                        endpoint.givesUpAtMilliseconds.map {
                                            .string(Timestamp.rfc3339(seconds: $0 / 1000))
                                        } ?? .null
                                    ),
                                    ("stuck", .bool(endpoint.stuck)),
                                ])
                            })
                    ),
                ])
            })
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// `45 s`, `12m 5s`, `3h 2m`, `2d 4h`.
    static func describe(_ milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        switch seconds {
        case ..<60: return "\(seconds) s"
        case ..<3600: return "\(seconds / 60)m \(seconds % 60)s"
        case ..<86_400: return "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        default: return "\(seconds / 86_400)d \(seconds % 86_400 / 3600)h"
        }
    }
}
