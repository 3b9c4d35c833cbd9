import Events

/// A rendered webhook body and its content type.
package struct WebhookBody: Sendable, Equatable {
    /// The exact bytes sent (and signed).
    package var bytes: [UInt8]
    /// The `Content-Type` value.
    package var contentType: String

    /// Creates a body.
    package init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
    }
}

/// Builds webhook bodies in every ``WebhookFormat``.
package struct WebhookBodyRenderer: Sendable {
    private let templates: [String: WebhookTemplate]

    /// Creates a renderer, loading the template file of every endpoint that uses one.
    /// - Parameter endpoints: The endpoints whose formats will be rendered.
    /// - Throws: ``WebhookError`` when a template file is missing or does not parse.
    package init(endpoints: [WebhookEndpoint]) throws(WebhookError) {
        var templates: [String: WebhookTemplate] = [:]
        for endpoint in endpoints {
            if endpoint.format == .template, let path = endpoint.templateFile, templates[path] == nil {
                templates[path] = try WebhookTemplate.load(path: path)
            }
        }
        self.templates = templates
    }

    /// Renders `event` for `endpoint`.
    /// - Returns: The body; a template that was not loaded at init renders an error note in JSON instead.
    package func body(for event: Event, endpoint: WebhookEndpoint) -> WebhookBody {
        let bytes: [UInt8]
        switch endpoint.format {
        case .json:
            bytes = event.payloadBytes()
        case .cloudevents:
            bytes = Array(WebhookBodyRenderer.cloudEvent(event).utf8)
        case .slack:
            bytes = Array(WebhookBodyRenderer.slackMessage(event).serialized().utf8)
        case .template:
            let path = endpoint.templateFile ?? ""
            if let template = templates[path] {
                bytes = Array(template.render(event).utf8)
            } else {
                bytes = Array(JSONValue.object([("error", .string("template \(path) not loaded"))]).serialized().utf8)
            }
        }
        return WebhookBody(bytes: bytes, contentType: endpoint.effectiveContentType)
    }

    /// The CloudEvents 1.0 structured-mode envelope of `event`, its `data` the payload as ``Event/encoded`` made it.
    package static func cloudEvent(_ event: Event) -> String {
        let instance = event.instance.instanceID.isEmpty ? "unknown" : event.instance.instanceID
        var envelope = JSONObjectText()
        envelope.append("specversion", "1.0")
        envelope.append("id", .string(event.id))
        envelope.append("source", .string("imdswatch/\(instance)"))
        envelope.append("type", .string("imdswatch.\(event.type.rawValue)"))
        envelope.append("time", .string(event.detectedAt))
        envelope.append("datacontenttype", "application/json")
        envelope.append("data", serialized: event.encoded.payload)
        return envelope.text
    }

    /// The Slack message of `event`: `{"text": ":warning: spot-interruption on i-… (m5.large, eu-west-1b): …"}`.
    package static func slackMessage(_ event: Event) -> JSONValue {
        let line = WebhookSummary.emoji(for: event.type) + " " + WebhookSummary.line(for: event)
        let escaped = line.replacingOccurrences("&", "&amp;").replacingOccurrences("<", "&lt;")
            .replacingOccurrences(">", "&gt;")
        return ["text": .string(escaped)]
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
