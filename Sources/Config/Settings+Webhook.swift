public import Events

extension Settings {
    /// The body format of a webhook.
    public enum WebhookFormat: String, CaseIterable, Sendable {
        /// The `imdswatch.event/v1` payload.
        case json
        /// CloudEvents 1.0 structured JSON.
        case cloudevents
        /// `{"text": …}`, one line.
        case slack
        /// A Mustache template (`template_file`) rendered with the payload.
        case template
    }

    /// Settings shared by every webhook: the `[webhook_defaults]` table, also applied to `--webhook` URLs.
    public struct WebhookDefaults: Sendable, Equatable {
        /// Body format; default ``WebhookFormat/json``.
        public var format: WebhookFormat
        /// Mustache template, required when ``format`` is ``WebhookFormat/template``.
        public var templateFile: String?
        /// `Content-Type` of the body; `nil` lets the format choose.
        public var contentType: String?
        /// File holding the HMAC key for `X-Imdswatch-Signature-256`.
        public var secretFile: String?
        /// Extra request headers.
        public var headers: [String: String]
        /// The event types sent; empty means all.
        public var events: Set<EventType>
        /// Time allowed to connect; never more than ``timeout``.
        public var connectTimeout: Duration
        /// Time allowed per attempt.
        public var timeout: Duration
        /// Proxy URL; `nil` follows libcurl's proxy environment variables, `""` means no proxy at all.
        public var proxy: String?
        /// CA bundle (PEM) to verify the server with, instead of the system's.
        public var caBundle: String?
        /// How long a delivery is retried before it is dropped.
        public var maxAge: Duration
        /// Whether 3xx redirects are followed.
        public var followRedirects: Bool

        /// The built-in defaults.
        public init() {
            format = .json
            templateFile = nil
            contentType = nil
            secretFile = nil
            headers = [:]
            events = []
            connectTimeout = .seconds(3)
            timeout = .seconds(10)
            proxy = nil
            caBundle = nil
            maxAge = .seconds(3600)
            followRedirects = false
        }
    }

    /// One `[[webhook]]` entry or `--webhook` URL: its URL and its ``WebhookDefaults``-shaped settings (the
    /// defaults with the entry's own keys applied), read as if they were the endpoint's own properties
    /// (`endpoint.format`, `endpoint.timeout`, …).
    @dynamicMemberLookup
    public struct WebhookEndpoint: Sendable, Equatable {
        /// The `http://` or `https://` URL events are POSTed to.
        public var url: String
        /// Everything but the URL. ``WebhookDefaults/templateFile`` is set exactly when the format is
        /// ``WebhookFormat/template``; ``WebhookDefaults/connectTimeout`` is never more than the timeout.
        public var settings: WebhookDefaults

        /// Creates an endpoint from a URL and the shared settings.
        /// - Parameters:
        ///   - url: The URL events are POSTed to (not validated here).
        ///   - defaults: Everything else.
        public init(url: String, defaults: WebhookDefaults = WebhookDefaults()) {
            self.url = url
            settings = defaults
            settings.connectTimeout = min(defaults.connectTimeout, defaults.timeout)
        }

        /// One of the endpoint's settings.
        public subscript<Value>(dynamicMember keyPath: WritableKeyPath<WebhookDefaults, Value>) -> Value {
            get { settings[keyPath: keyPath] }
            set { settings[keyPath: keyPath] = newValue }
        }

        /// Whether events of `type` are sent to this endpoint.
        /// - Parameter type: An event type.
        /// - Returns: `true` when ``WebhookDefaults/events`` is empty or holds `type`.
        public func accepts(_ type: EventType) -> Bool {
            settings.events.isEmpty || settings.events.contains(type)
        }
    }
}
