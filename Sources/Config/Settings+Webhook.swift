import Webhooks

/// Webhook settings are the Webhooks module's own ``Webhooks/WebhookEndpoint``: the file and the flags decode
/// straight into it (`[webhook_defaults]` is an endpoint without a URL); only the secret is read later, when `run`
/// builds the dispatcher.
extension WebhookEndpoint {
    /// The endpoint at `url` with the settings of `defaults` (`[webhook_defaults]` and any keys of its own), its
    /// connect timeout never more than its timeout.
    /// - Parameters:
    ///   - url: The URL events are POSTed to (validated by the caller).
    ///   - defaults: Everything else.
    init(url: String, defaults: WebhookEndpoint) {
        self = defaults
        self.url = url
        connectTimeout = min(defaults.connectTimeout, defaults.timeout)
    }
}
