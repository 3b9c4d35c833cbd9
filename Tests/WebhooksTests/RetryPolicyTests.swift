import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Testing
@testable import Webhooks

@Suite struct RetryPolicyTests {
    let policy = WebhookRetryPolicy()

    @Test func backoffDoublesFromOneSecondUpToSixtyWithFullJitter() {
        #expect(policy.delayMilliseconds(afterAttempt: 1, unit: 1) == 1000)
        #expect(policy.delayMilliseconds(afterAttempt: 2, unit: 1) == 2000)
        #expect(policy.delayMilliseconds(afterAttempt: 6, unit: 1) == 32000)
        #expect(policy.delayMilliseconds(afterAttempt: 7, unit: 1) == 60000)
        #expect(policy.delayMilliseconds(afterAttempt: 500, unit: 1) == 60000)
        #expect(policy.delayMilliseconds(afterAttempt: 3, unit: 0) == 0)
        #expect(policy.delayMilliseconds(afterAttempt: 3, unit: 0.5) == 2000)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func retriesTransientStatuses(status: Int) {
        #expect(WebhookAttemptVerdict.classify(HTTPResponse(status: status), nowMilliseconds: 0) == .retry(retryAfterMilliseconds: nil))
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
        #expect(WebhookAttemptVerdict.classify(HTTPError(code: .connectionRefused, detail: "", url: "")) == .retry(retryAfterMilliseconds: nil))
        #expect(WebhookAttemptVerdict.classify(HTTPError(code: .timedOut, detail: "", url: "")) == .retry(retryAfterMilliseconds: nil))
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
        ("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/T0000/***/***"),
        ("https://discord.com/api/webhooks/123456/abcdefTOKEN", "https://discord.com/api/webhooks/123456/***"),
        ("https://example.com/hooks/9f8e7d6c5b4a39281706f5e4d3c2b1a0", "https://example.com/hooks/***"),
        ("http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook"),
        ("https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/0123/xyz", "https://acme.webhook.office.com/webhookb2/***/***/***/***"),
        ("https://outlook.office.com/webhook/abc/IncomingWebhook/def/ghi", "https://outlook.office.com/webhook/***/***/***/***"),
        ("https://chat.googleapis.com/v1/spaces/AAAA1234/messages?key=k&token=t", "https://chat.googleapis.com/v1/spaces/***/***?key=***&token=***"),
        ("https://prod-1.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x", "https://prod-1.westus.logic.azure.com/workflows/***/***/***/***/***?sig=***"),
        ("https://h.example.com/p#access_token=abc", "https://h.example.com/p#***"),
    ])
    func masksCredentialsAndPathSecrets(url: String, expected: String) {
        #expect(RedactedURL.redact(url) == expected)
    }

    @Test func debugLoggingShowsTheSecretPathButNeverCredentialsQueriesOrFragments() {
        let url = "https://u:p@hooks.slack.com/services/T0000/B0000/XXXX?x=1#f"
        #expect(RedactedURL.redact(url, revealingSecretPaths: true) == "https://***@hooks.slack.com/services/T0000/B0000/XXXX?x=***#***")
    }
}
