import Crypto
import Durability
import Events
import HTTP

/// How a webhook body is built from an event: the `format` of `[[webhook]]` and `--webhook-format`, by these raw
/// values.
package enum WebhookFormat: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// The `imdswatch.event/v1` payload, as hooks read it (`application/json`).
    case json
    /// CloudEvents 1.0 structured mode (`application/cloudevents+json`) with the payload as `data`.
    case cloudevents
    /// A Slack incoming-webhook message: `{"text": "…"}` with one readable line.
    case slack
    /// The endpoint's Mustache ``WebhookEndpoint/templateFile`` rendered with the payload as its context
    /// (`application/json` unless overridden).
    case template

    /// The `Content-Type` sent when the endpoint does not override it.
    package var defaultContentType: String {
        switch self {
        case .cloudevents: "application/cloudevents+json"
        case .json, .slack, .template: "application/json"
        }
    }

    /// `json`, `cloudevents`, `slack` or `template`.
    package var description: String { rawValue }
}

/// One webhook receiver and how to talk to it: a `[[webhook]]` table or `--webhook` URL, which the Config module
/// decodes straight into this type (`[webhook_defaults]` is one without a URL).
package struct WebhookEndpoint: Sendable, Equatable {
    /// The absolute `http` or `https` URL; it may carry credentials (they are never logged).
    package var url: String
    /// The body format.
    package var format: WebhookFormat
    /// The Mustache template rendered for ``WebhookFormat/template`` (`template_file`).
    package var templateFile: String?
    /// A `Content-Type` replacing the format's default.
    package var contentType: String?
    /// Extra header fields sent on every request. Names imdswatch sets itself (`Content-Type`, `User-Agent`,
    /// `X-Imdswatch-*`) are ignored here.
    package var headers: [HTTPHeader]
    /// The file the HMAC key is read from when the endpoint is put to use (`secret_file`).
    package var secretFile: String?
    /// The HMAC key for `X-Imdswatch-Signature-256`, read from ``secretFile``; `nil` sends no signature.
    package var secret: WebhookSecret?
    /// The event types sent to this endpoint; empty means every type.
    package var events: Set<EventType>
    /// Time allowed to connect (default 3 s).
    package var connectTimeout: Duration
    /// Time allowed for a whole attempt (default 10 s).
    package var timeout: Duration
    /// The proxy policy; the default, `.environment`, follows libcurl's `https_proxy`, `no_proxy`, … variables.
    package var proxy: CurlTransport.Options.Proxy
    /// A CA bundle file for TLS verification; `nil` uses the system's.
    package var caBundlePath: String?
    /// Whether a 3xx with a `Location` is followed by POSTing the same body there (at most 5 hops, never from
    /// `https` to `http`). Off by default: a redirect is then logged and the delivery dropped.
    package var followRedirects: Bool
    /// How long a delivery is retried before it is dropped (default 1 h).
    package var maxAge: Duration

    /// Creates an endpoint.
    /// - Parameters:
    ///   - url: The receiver's URL.
    ///   - format: The body format (default `json`).
    ///   - templateFile: The template of the `template` format.
    ///   - contentType: Overrides the format's content type.
    ///   - headers: Extra header fields.
    ///   - secretFile: Where the signing key is read from.
    ///   - secret: The signing key, usually from ``WebhookSecret/load(fromFile:logger:)``.
    ///   - events: The types to send; empty sends all.
    ///   - connectTimeout: Connect timeout (3 s).
    ///   - timeout: Total timeout per attempt (10 s).
    ///   - proxy: Proxy policy (libcurl's environment variables).
    ///   - caBundlePath: CA bundle file.
    ///   - followRedirects: Follow redirects (off).
    ///   - maxAge: Give up on a delivery this long after the event (1 h).
    package init(
        url: String,
        format: WebhookFormat = .json,
        templateFile: String? = nil,
        contentType: String? = nil,
        headers: [HTTPHeader] = [],
        secretFile: String? = nil,
        secret: WebhookSecret? = nil,
        events: Set<EventType> = [],
        connectTimeout: Duration = .seconds(3),
        timeout: Duration = .seconds(10),
        proxy: CurlTransport.Options.Proxy = .environment,
        caBundlePath: String? = nil,
        followRedirects: Bool = false,
        maxAge: Duration = .seconds(3600)
    ) {
        self.url = url
        self.format = format
        self.templateFile = templateFile
        self.contentType = contentType
        self.headers = headers
        self.secretFile = secretFile
        self.secret = secret
        self.events = events
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.proxy = proxy
        self.caBundlePath = caBundlePath
        self.followRedirects = followRedirects
        self.maxAge = maxAge
    }

    /// A stable identifier derived from the URL alone (16 hex digits of its SHA-256), naming the endpoint's
    /// deliveries in the outbox: editing other settings keeps pending deliveries attached.
    package var id: String {
        let digest = SHA256.hash(data: Array(url.utf8))
        return String(digest.hexString.prefix(16))
    }

    /// The URL with credentials and known path secrets masked, for logs.
    package var redactedURL: String {
        RedactedURL.redact(url)
    }

    /// The content type actually sent.
    package var effectiveContentType: String {
        contentType ?? format.defaultContentType
    }

    /// Whether `type` is sent to this endpoint.
    package func accepts(_ type: EventType) -> Bool {
        events.isEmpty || events.contains(type)
    }

    /// Checks that the URL is an absolute `http` or `https` URL with a host, and that the CA bundle (if any) reads.
    /// - Throws: ``WebhookError`` with code ``WebhookError/Code/invalidURL`` or ``WebhookError/Code/caBundle``.
    package func validate() throws(WebhookError) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            throw WebhookError(code: .invalidURL, message: "webhook URL \(redactedURL) is not an http or https URL")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let host = authority.split(separator: "@").last ?? ""
        if host.isEmpty || url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\r" }) {
            throw WebhookError(
                code: .invalidURL, message: "webhook URL \(redactedURL) has no host or contains white space")
        }
        if let caBundlePath {
            do {
                _ = try SafeFile.readRegularFileFollowingSymlink(caBundlePath, limit: 64 << 20)
            } catch {
                throw WebhookError(
                    code: .caBundle,
                    message:
                        "webhook \(redactedURL): cannot read ca_bundle \(caBundlePath): \(error.reason ?? SystemCall.describe(errno: error.errno))"
                )
            }
        }
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal digits.
    var hexString: String {
        let digits: [Character] = Array("0123456789abcdef")
        var text = ""
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
