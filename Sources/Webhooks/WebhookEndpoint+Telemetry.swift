import HTTP

extension WebhookEndpoint {
    /// The `endpoint` label of `imdswatch_webhook_deliveries_total`: the URL without credentials, query or
    /// fragment, with the secret path segments of well-known receivers masked as in log lines.
    var telemetryLabel: String {
        RedactedURL.endpoint(RedactedURL.redact(url))
    }
}
