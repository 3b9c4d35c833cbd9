import Durability
import Events
import Foundation
import HTTP
import Logging
import Retry
import Telemetry

extension WebhookDispatcher {
    /// One endpoint's worker: sends its oldest pending delivery when due, then the next; sleeps when none is due.
    func work(_ lane: Lane) async {
        var wakeUps = lane.wakeUps.makeAsyncIterator()
        while !Task.isCancelled {
            guard let entry = await outbox.head(endpointID: lane.endpoint.id) else {
                if await wakeUps.next() == nil { return }
                continue
            }
            let log = logger.forDelivery(endpoint: lane.endpoint, eventID: entry.eventID, eventType: entry.eventType)
            let deadline = entry.createdAtMilliseconds + lane.endpoint.maxAge.wholeMilliseconds
            if clock.now() >= deadline {
                log.error("webhook delivery dropped after \(entry.attempts) attempts: older than the maximum age")
                telemetry.recordWebhookDelivery(endpoint: lane.endpoint.telemetryLabel, result: .dropped)
                await outbox.remove(entry)
                continue
            }
            if entry.nextAttemptMilliseconds > clock.now() {
                do {
                    try await clock.sleep(untilMilliseconds: entry.nextAttemptMilliseconds)
                } catch {
                    return
                }
                continue
            }
            await attempt(entry, lane: lane, log: log, deadline: deadline)
        }
    }

    /// Makes one attempt and records its outcome in the outbox and the log.
    private func attempt(_ entry: OutboxEntry, lane: Lane, log: Logger, deadline: Int64) async {
        var entry = entry
        entry.attempts += 1
        guard
            let result = await send(
                body: entry.body, contentType: entry.contentType, eventType: entry.eventType,
                eventID: entry.eventID, lane: lane, log: log)
        else {
            log.info("webhook attempt abandoned at shutdown; the delivery stays in the outbox")
            return
        }
        let now = clock.now()
        var log = log
        let verdict: WebhookAttemptVerdict
        let outcome: String
        switch result {
        case .success(let response):
            log[metadataKey: LogField.webhookStatus] = "\(response.status)"
            verdict = WebhookAttemptVerdict.classify(response, nowMilliseconds: now)
            outcome = "HTTP \(response.status)"
        case .failure(let error):
            verdict = WebhookAttemptVerdict.classify(error)
            outcome = "\(error.code.rawValue): \(error.detail)"
        }
        switch verdict {
        case .delivered:
            log.info("webhook delivered (\(outcome), attempt \(entry.attempts))")
            telemetry.recordWebhookDelivery(endpoint: lane.endpoint.telemetryLabel, result: .delivered)
            await outbox.remove(entry)
        case .drop:
            log.error("webhook delivery refused (\(outcome), attempt \(entry.attempts)); dropped, not retried")
            telemetry.recordWebhookDelivery(endpoint: lane.endpoint.telemetryLabel, result: .dropped)
            await outbox.remove(entry)
        case .retry(let retryAfter):
            let delay = retryAfter ?? retryPolicy.delay(beforeRetry: entry.attempts).wholeMilliseconds
            let next = now + delay
            if next >= deadline {
                log.error(
                    "webhook delivery failed (\(outcome), attempt \(entry.attempts)); dropped: the next try would pass the maximum age"
                )
                telemetry.recordWebhookDelivery(endpoint: lane.endpoint.telemetryLabel, result: .dropped)
                await outbox.remove(entry)
                return
            }
            entry.nextAttemptMilliseconds = next
            await outbox.update(entry)
            telemetry.recordWebhookDelivery(endpoint: lane.endpoint.telemetryLabel, result: .retried)
            // An endpoint down for an hour would otherwise log a line a minute: the 1st, 10th, 100th … failed
            // attempt of a delivery is a warning, the others are debug lines; delivery or the final drop says the rest.
            // The bound is said each time: an endpoint that is down is given up on at the delivery's maximum age.
            let message: Logger.Message =
                "webhook delivery failed (\(outcome), attempt \(entry.attempts)); next attempt at \(Timestamp.rfc3339Milliseconds(next)), dropped at \(Timestamp.rfc3339Milliseconds(deadline)) (max_age) if it keeps failing"
            if Self.isReportedFailure(attempt: entry.attempts) {
                log.warning(
                    entry.attempts == 1
                        ? message
                        : "\(message) (further failures of this delivery are logged at the 10th, 100th … attempt)")
            } else {
                log.debug(message)
            }
        }
    }

    /// Whether the `attempt`-th failed attempt of one delivery is a warning: the 1st, 10th, 100th, …
    static func isReportedFailure(attempt: Int) -> Bool {
        var power = 1
        while power < attempt, power <= Int.max / 10 { power *= 10 }
        return power == attempt
    }

    /// POSTs a body to the lane's endpoint, following redirects when the endpoint allows it.
    /// - Returns: The final result, or `nil` when the task was cancelled before it came.
    func send(
        body: [UInt8], contentType: String, eventType: String, eventID: String, lane: Lane, log: Logger
    ) async -> Result<HTTPResponse, HTTPError>? {
        let endpoint = lane.endpoint
        var url = endpoint.url
        var hops = 0
        while true {
            // A hop to another origin (scheme, host, port) gets neither the extra headers nor the signature.
            let sameOrigin = WebhookDispatcher.origin(of: url) == WebhookDispatcher.origin(of: endpoint.url)
            let request = makeRequest(
                url: url, body: body, contentType: contentType, eventType: eventType,
                eventID: eventID, endpoint: endpoint, withCredentials: sameOrigin)
            let result: Result<HTTPResponse, HTTPError>
            do throws(HTTPError) {
                result = .success(try await lane.transport.send(request))
            } catch {
                // A cancelled task aborts its transfer (``CurlTransport``): the delivery stays in the outbox and is
                // sent by the next run (at least once, possibly twice when the receiver had already taken it).
                if error.code == .cancelled || Task.isCancelled { return nil }
                result = .failure(error)
            }
            guard case .success(let response) = result else { return result }
            guard endpoint.followRedirects, [301, 302, 303, 307, 308].contains(response.status),
                let location = response.header("Location"), hops < 5,
                let target = WebhookDispatcher.resolve(location, against: url)
            else {
                return .success(response)
            }
            hops += 1
            log.debug("webhook redirected (\(response.status)) to \(RedactedURL.redact(target))")
            url = target
        }
    }

    /// The request of one attempt: our headers, the endpoint's extra headers, and the signature (these two only
    /// `withCredentials`: not after a redirect to another origin).
    func makeRequest(
        url: String, body: [UInt8], contentType: String, eventType: String, eventID: String, endpoint: WebhookEndpoint,
        withCredentials: Bool = true
    ) -> HTTPRequest {
        var headers = [
            HTTPHeader("Content-Type", contentType),
            HTTPHeader("User-Agent", userAgent),
            HTTPHeader("X-Imdswatch-Event", eventType),
            HTTPHeader("X-Imdswatch-Delivery", eventID),
        ]
        for header in endpoint.headers where withCredentials && !WebhookDispatcher.isReserved(header.name) {
            headers.append(header)
        }
        if withCredentials, let secret = endpoint.secret {
            headers.append(HTTPHeader("X-Imdswatch-Signature-256", secret.signature(for: body)))
        }
        return HTTPRequest(
            method: .post, url: url, headers: headers, body: body,
            connectTimeout: endpoint.connectTimeout, totalTimeout: endpoint.timeout, maxResponseBytes: 1 << 20
        )
    }

    /// Whether a header name is one imdswatch sets itself.
    static func isReserved(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == "content-type" || lower == "user-agent" || lower == "content-length"
            || lower.hasPrefix("x-imdswatch-")
    }

    /// `scheme://host:port` of a URL, lower-cased, with the scheme's default port filled in; `nil` when unparsable.
    static func origin(of url: String) -> String? {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            let host = parsed.host?.lowercased()
        else {
            return nil
        }
        let port = parsed.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }

    /// The absolute URL of a `Location` header; `nil` for anything but http(s), or for a downgrade from https.
    static func resolve(_ location: String, against base: String) -> String? {
        guard let baseURL = URL(string: base), let target = URL(string: location, relativeTo: baseURL)?.absoluteURL,
            let scheme = target.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { return nil }
        if baseURL.scheme?.lowercased() == "https", scheme == "http" { return nil }
        return target.absoluteString
    }
}
