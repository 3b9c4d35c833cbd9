import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Retry
import Testing

@testable import Webhooks

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy.webhook

    @Test func backoffDoublesFromOneSecondUpToSixtyWithFullJitter() {
        #expect(policy.backoff(beforeRetry: 1) == .seconds(1))
        #expect(policy.backoff(beforeRetry: 2) == .seconds(2))
        #expect(policy.backoff(beforeRetry: 6) == .seconds(32))
        #expect(policy.backoff(beforeRetry: 7) == .seconds(60))
        #expect(policy.backoff(beforeRetry: 500) == .seconds(60))
        #expect(policy.maxAttempts == .max, "bounded by the maximum age, not by a count")
        var halved = policy
        halved.jitter = { $0 / 2 }
        #expect(halved.delay(beforeRetry: 3) == .seconds(2))
        // Full jitter stays within 0...backoff.
        for _ in 0..<100 {
            let delay = policy.delay(beforeRetry: 3)
            #expect(delay >= .zero && delay <= .seconds(4))
        }
    }

    /// docs/webhooks.md and docs/faults.md state the schedule in the code's numbers.
    @Test func theDocumentedScheduleIsTheCodes() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs")
        let webhooks = try String(contentsOf: docs.appendingPathComponent("webhooks.md"), encoding: .utf8)
        let faults = try String(contentsOf: docs.appendingPathComponent("faults.md"), encoding: .utf8)
        let cap = policy.maxDelay.components.seconds
        let base = policy.baseDelay.components.seconds
        #expect(webhooks.contains("random value in 0…min(\(cap) s, \(base) s × 2^(n−1)) (\"full jitter\")"))
        #expect(
            faults.replacingOccurrences(of: "\n", with: " ").contains(
                "full jitter (\(base) s base, doubling, \(cap) s cap)"))
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func retriesTransientStatuses(status: Int) {
        #expect(
            WebhookAttemptVerdict.classify(HTTPResponse(status: status), nowMilliseconds: 0)
                == .retry(retryAfterMilliseconds: nil))
    }

    @Test(arguments: [400, 401, 403, 404, 410, 422, 301, 302])
    func dropsOtherStatuses(status: Int) {
        #expect(WebhookAttemptVerdict.classify(HTTPResponse(status: status), nowMilliseconds: 0) == .drop)
    }

    @Test(arguments: [200, 201, 202, 204])
    func deliversOn2xx(status: Int) {
        #expect(WebhookAttemptVerdict.classify(HTTPResponse(status: status), nowMilliseconds: 0) == .delivered)
    }

    @Test func retriesTransportErrorsButNotInvalidURLs() {
        #expect(
            WebhookAttemptVerdict.classify(HTTPError(code: .connectionRefused, detail: "", url: ""))
                == .retry(retryAfterMilliseconds: nil))
        #expect(
            WebhookAttemptVerdict.classify(HTTPError(code: .timedOut, detail: "", url: ""))
                == .retry(retryAfterMilliseconds: nil))
        #expect(WebhookAttemptVerdict.classify(HTTPError(code: .invalidURL, detail: "", url: "")) == .drop)
    }

    @Test func retryAfterAcceptsSecondsAndHTTPDates() {
        #expect(RetryAfter.milliseconds("3", nowMilliseconds: 0) == 3000)
        #expect(RetryAfter.milliseconds(" 120 ", nowMilliseconds: 0) == 120_000)
        // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT", nowMilliseconds: 784_111_770_000) == 7000)
        #expect(RetryAfter.milliseconds("Sun, 06 Nov 1994 08:49:37 GMT", nowMilliseconds: 784_111_790_000) == 0)
        #expect(RetryAfter.milliseconds("soon", nowMilliseconds: 0) == nil)
        let response = HTTPResponse(status: 429, headers: [HTTPHeader("Retry-After", "3")])
        #expect(WebhookAttemptVerdict.classify(response, nowMilliseconds: 0) == .retry(retryAfterMilliseconds: 3000))
    }
}

@Suite struct URLRedactionTests {
    @Test(arguments: [
        ("https://user:pa55word@example.com/hook?token=abc123&x=1", "https://***@example.com/hook?token=***&x=***"),
        (
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/T0000/***/***"
        ),
        ("https://discord.com/api/webhooks/123456/abcdefTOKEN", "https://discord.com/api/webhooks/123456/***"),
        ("https://example.com/hooks/9f8e7d6c5b4a39281706f5e4d3c2b1a0", "https://example.com/hooks/***"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
        (
            "https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/0123/xyz",
            "https://acme.webhook.office.com/webhookb2/***/***/***/***"
        ),
        (
            "https://outlook.office.com/webhook/abc/IncomingWebhook/def/ghi",
            "https://outlook.office.com/webhook/***/***/***/***"
        ),
        (
            "https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=k&token=t",
            "https://chat.googleapis.com/v1/spaces/***/***?key=***&token=***"
        ),
        (
            "https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x",
            "https://prod-1.westus.logic.azure.com/workflows/***/***/***/***/***?sig=***"
        ),
        ("https://h.example.com/p#access_token=abc", "https://h.example.com/p#***"),
    ])
    func masksCredentialsAndPathSecrets(url: String, expected: String) {
        #expect(RedactedURL.redact(url) == expected)
    }

    @Test func debugLoggingShowsTheSecretPathButNeverCredentialsQueriesOrFragments() {
        let url = "https://u:p@hooks.slack.com/services/T0000/B0000/XXXX?x=1#f"
        #expect(
            RedactedURL.redact(url, revealingSecretPaths: true)
                == "https://***@hooks.slack.com/services/T0000/B0000/XXXX?x=***#***")
    }
}
