import Events
import HTTP
import Logging

/// What happened to one endpoint in ``WebhookDispatcher/sendOnce(_:)``.
package struct WebhookSendResult: Sendable, Equatable {
    /// The outcome.
    package enum Outcome: Sendable, Equatable {
        /// A 2xx.
        case delivered(status: Int)
        /// Any other status.
        case rejected(status: Int)
        /// No response (connection, timeout, TLS…); the text says why.
        case failed(String)
        /// The endpoint's event filter excludes this type.
        case filtered
        /// `dryRun`: nothing was sent.
        case dryRun
    }

    /// The endpoint URL, redacted for display.
    package var url: String
    /// The outcome.
    package var outcome: Outcome

    /// Whether the receiver accepted it (or nothing was meant to be sent).
    package var isSuccess: Bool {
        switch outcome {
        case .delivered, .filtered, .dryRun: true
        case .rejected, .failed: false
        }
    }
}

extension WebhookDispatcher {
    /// Sends `event` once to every endpoint, in parallel, without the outbox and without retries, and reports each
    /// outcome: for `imdswatch hooks test TYPE --webhooks`. Does not need ``run()``.
    /// - Parameter event: Usually a synthetic event (`synthetic: true`).
    /// - Returns: One result per endpoint, in configuration order.
    package func sendOnce(_ event: Event) async -> [WebhookSendResult] {
        await withTaskGroup(of: (Int, WebhookSendResult).self) { group in
            for (index, lane) in lanes.enumerated() {
                group.addTask { (index, await self.sendOnce(event, lane: lane)) }
            }
            var results: [(Int, WebhookSendResult)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func sendOnce(_ event: Event, lane: Lane) async -> WebhookSendResult {
        let url = lane.endpoint.redactedURL
        guard lane.endpoint.accepts(event.type) else { return WebhookSendResult(url: url, outcome: .filtered) }
        let body = renderer.body(for: event, endpoint: lane.endpoint)
        var log = logger.forDelivery(endpoint: lane.endpoint, eventID: event.id, eventType: event.type.rawValue)
        if dryRun {
            log.info("dry run: would POST \(body.bytes.count) bytes of \(body.contentType) to webhook \(url)")
            return WebhookSendResult(url: url, outcome: .dryRun)
        }
        guard
            let result = await send(
                body: body.bytes, contentType: body.contentType, eventType: event.type.rawValue,
                eventID: event.id, lane: lane, log: log)
        else {
            return WebhookSendResult(url: url, outcome: .failed("cancelled"))
        }
        switch result {
        case .success(let response):
            log[metadataKey: LogField.webhookStatus] = "\(response.status)"
            if (200..<300).contains(response.status) {
                log.info("webhook test delivered (HTTP \(response.status))")
                return WebhookSendResult(url: url, outcome: .delivered(status: response.status))
            }
            log.error("webhook test refused (HTTP \(response.status))")
            return WebhookSendResult(url: url, outcome: .rejected(status: response.status))
        case .failure(let error):
            log.error("webhook test failed: \(error.code.rawValue): \(error.detail)")
            return WebhookSendResult(url: url, outcome: .failed("\(error.code.rawValue): \(error.detail)"))
        }
    }
}
