import Durability
import Events
import HTTP
import Logging
import Retry
import ServiceLifecycle
import Telemetry

/// Sends events to webhooks at least once: each delivery goes to the durable outbox first, then one worker per
/// endpoint POSTs it, retrying with backoff until a 2xx, a permanent refusal or the endpoint's maximum age.
///
/// ``deliver(_:)`` only renders and persists: it never waits for a receiver, so a slow or dead receiver delays
/// neither the caller nor the other endpoints. Deliveries for one endpoint go out in order. Run it in a
/// `ServiceGroup` (or call ``run()`` in a task); graceful shutdown stops the workers and leaves pending deliveries in
/// the outbox for the next start.
package final class WebhookDispatcher: EventSink, Service, Sendable {
    /// Makes the transport of one endpoint. Production uses ``curlTransport(version:)``; tests inject fakes.
    package typealias TransportFactory = @Sendable (WebhookEndpoint) -> any HTTPTransport

    /// One endpoint with its transport and its worker's wake-up signal.
    struct Lane: Sendable {
        let endpoint: WebhookEndpoint
        let transport: any HTTPTransport
        let wakeUps: AsyncStream<Void>
        let wake: AsyncStream<Void>.Continuation
    }

    let lanes: [Lane]
    let outbox: WebhookOutbox
    let renderer: WebhookBodyRenderer
    let retryPolicy: RetryPolicy
    let clock: any WallClock
    let logger: Logger
    let userAgent: String
    let telemetry: Telemetry
    /// Whether nothing is sent (`--dry-run`).
    package let dryRun: Bool
    private let stopSignal: AsyncStream<Void>
    private let stop: AsyncStream<Void>.Continuation

    /// Creates a dispatcher; starts nothing (``run()`` starts the workers).
    /// - Parameters:
    ///   - endpoints: The webhooks. Two endpoints with the same URL share an id: only the first is kept (warning).
    ///   - stateDirectory: The state directory; deliveries live in its `outbox/` subdirectory.
    ///   - version: imdswatch's version, sent as `User-Agent: imdswatch/VERSION`.
    ///   - dryRun: Log what would be sent, send nothing, persist nothing.
    ///   - retryPolicy: The backoff (``RetryPolicy/webhook``: 1 s doubling, at most 60 s, full jitter; tests inject
    ///     the jitter); its attempts are not counted, the endpoint's maximum age bounds them.
    ///   - outboxCapacity: The most pending deliveries kept (1000).
    ///   - transportFactory: Makes each endpoint's transport; `nil` makes a ``CurlTransport`` per endpoint.
    ///   - clock: Wall-clock time and sleeping.
    ///   - logger: Where every attempt is reported.
    ///   - telemetry: Records each attempt's outcome (nothing by default).
    /// - Throws: ``WebhookError`` when a URL is invalid or a template file is missing or does not parse.
    package init(
        endpoints: [WebhookEndpoint],
        stateDirectory: String,
        version: String,
        dryRun: Bool = false,
        retryPolicy: RetryPolicy = .webhook,
        outboxCapacity: Int = 1000,
        transportFactory: TransportFactory? = nil,
        clock: any WallClock = SystemWallClock(),
        logger: Logger,
        telemetry: Telemetry = .disabled
    ) throws(WebhookError) {
        var unique: [WebhookEndpoint] = []
        for endpoint in endpoints {
            try endpoint.validate()
            if unique.contains(where: { $0.id == endpoint.id }) {
                logger.warning("webhook \(endpoint.redactedURL) is configured twice; the first one is used")
                continue
            }
            unique.append(endpoint)
        }
        let factory = transportFactory ?? WebhookDispatcher.curlTransport(version: version)
        self.lanes = unique.map { endpoint in
            let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            return Lane(endpoint: endpoint, transport: factory(endpoint), wakeUps: stream, wake: continuation)
        }
        self.renderer = try WebhookBodyRenderer(endpoints: unique)
        self.outbox = WebhookOutbox(
            directory: stateDirectory + "/outbox", capacity: outboxCapacity, logger: logger
        )
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.logger = logger
        self.userAgent = "imdswatch/\(version)"
        self.telemetry = telemetry
        self.dryRun = dryRun
        (self.stopSignal, self.stop) = AsyncStream<Void>.makeStream()
    }

    /// The production transport factory: one ``CurlTransport`` per endpoint with its proxy, CA bundle and
    /// `User-Agent: imdswatch/VERSION`.
    package static func curlTransport(version: String) -> TransportFactory {
        { endpoint in
            CurlTransport(
                options: CurlTransport.Options(
                    proxy: endpoint.proxy, caBundlePath: endpoint.caBundlePath, userAgent: "imdswatch/\(version)"
                ))
        }
    }

    /// The configured endpoints (duplicates removed).
    package var endpoints: [WebhookEndpoint] { lanes.map(\.endpoint) }

    /// Renders `event` for every endpoint that accepts its type and stores each delivery durably in the outbox;
    /// returns then, without waiting for any receiver. With `dryRun`, logs what would be sent instead.
    package func deliver(_ event: Event) async {
        for lane in lanes where lane.endpoint.accepts(event.type) {
            let body = renderer.body(for: event, endpoint: lane.endpoint)
            let log = logger.forDelivery(endpoint: lane.endpoint, eventID: event.id, eventType: event.type.rawValue)
            if dryRun {
                log.info(
                    "dry run: would POST \(body.bytes.count) bytes of \(body.contentType) to webhook \(lane.endpoint.redactedURL)"
                )
                continue
            }
            let entry = OutboxEntry(
                sequence: 0, endpointID: lane.endpoint.id, eventID: event.id, eventType: event.type.rawValue,
                body: body.bytes, contentType: body.contentType, createdAtMilliseconds: clock.now()
            )
            if await outbox.add(entry) != nil {
                log.debug("webhook delivery queued")
                lane.wake.yield()
            } else {
                log.debug("webhook delivery already pending")
            }
        }
    }

    /// How many deliveries are waiting in the outbox (for systemd's `STATUS=`).
    package func pendingCount() async -> Int {
        await outbox.count
    }

    /// Loads the outbox, then runs one worker per endpoint until graceful shutdown, ``shutdown()`` or cancellation.
    /// Pending deliveries of endpoints no longer configured are dropped (error log). With `dryRun`, no worker runs
    /// and the outbox is left as it is.
    package func run() async throws {
        let pending = await outbox.load()
        if pending > 0 {
            logger.info("webhook outbox: \(pending) pending deliveries from an earlier run")
        }
        let known = Set(lanes.map(\.endpoint.id))
        for entry in await outbox.all() where !dryRun && !known.contains(entry.endpointID) {
            logger.error(
                "webhook delivery dropped: its endpoint is no longer configured",
                metadata: [LogField.eventID: "\(entry.eventID)", LogField.eventType: "\(entry.eventType)"]
            )
            await outbox.remove(entry)
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in self.stopSignal {}
                }
                if !self.dryRun {
                    for lane in self.lanes {
                        group.addTask { await self.work(lane) }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Stops ``run()`` at once: workers stop, an attempt in flight is abandoned (its transfer ends in the background
    /// within the endpoint's timeout, its result unused), and every pending delivery stays in the outbox for the next
    /// start. Safe to call more than once, before or during ``run()``; a stopped dispatcher does not run again.
    package func shutdown() {
        stop.finish()
    }
}

extension Logger {
    /// A copy carrying the delivery's metadata. The URL is redacted; its secret path shows only at debug level.
    func forDelivery(endpoint: WebhookEndpoint, eventID: String, eventType: String) -> Logger {
        var copy = self
        copy[metadataKey: LogField.webhookURL] =
            "\(RedactedURL.redact(endpoint.url, revealingSecretPaths: logLevel <= .debug))"
        copy[metadataKey: LogField.eventID] = "\(eventID)"
        copy[metadataKey: LogField.eventType] = "\(eventType)"
        return copy
    }
}
