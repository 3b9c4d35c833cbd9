/// Why a webhook could not be configured, rendered or persisted.
///
/// Delivery failures (a refused connection, a 503) are not errors of this type: they are outcomes, logged and
/// retried by ``WebhookDispatcher``.
package struct WebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    package struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidURL, secretFile, templateFile, template, outbox, caBundle
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The URL is not an absolute `http` or `https` URL.
        package static let invalidURL = Code(.invalidURL)
        /// The secret file is missing, unreadable or empty.
        package static let secretFile = Code(.secretFile)
        /// A template file is missing or unreadable.
        package static let templateFile = Code(.templateFile)
        /// A template does not parse.
        package static let template = Code(.template)
        /// The outbox directory or one of its files could not be written.
        package static let outbox = Code(.outbox)
        /// The `ca_bundle` file is missing or unreadable.
        package static let caBundle = Code(.caBundle)

        package var description: String { value.rawValue }
    }

    /// The kind of failure.
    package var code: Code
    /// What failed, for a person: names the file or the (redacted) URL, never a secret.
    package var message: String
    /// The underlying error, when there is one.
    package var underlying: (any Error)?

    /// Creates an error.
    package init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    package var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }

    package static func == (lhs: WebhookError, rhs: WebhookError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }
}
