import Durability
import Events
import Foundation
import Mustache

/// A Mustache template (swift-mustache) that renders an event into a webhook body.
///
/// Values are escaped for the inside of a JSON string by default, because webhook bodies are JSON: write
/// `"summary": "{{summary}}"`. A template that starts with `{{% CONTENT_TYPE: TEXT}}` or `HTML` gets that escaping
/// instead. Triple mustaches (`{{{payload_json}}}`) insert text unescaped.
///
/// The context is the payload (`type`, `id`, `detected_at`, `instance.instance_id`, `data.time`, …) plus:
/// `summary` (one readable line), `severity` (`critical` for spot interruptions, `warning` otherwise, `info` for
/// cleared maintenance), `payload_json` and `data_json` (compact JSON text).
package struct WebhookTemplate: Sendable {
    /// The file it came from.
    package let path: String
    private let template: MustacheTemplate

    /// Parses template text.
    /// - Parameters:
    ///   - text: The template.
    ///   - path: A name for messages.
    /// - Throws: ``WebhookError`` with code ``WebhookError/Code/template`` when it does not parse.
    package init(text: String, path: String = "<inline>") throws(WebhookError) {
        WebhookTemplate.registerJSONEscaping
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: JSON}}" + text)
        } catch {
            throw WebhookError(
                code: .template, message: "webhook template \(path) does not parse: \(Self.describe(error))")
        }
        self.path = path
    }

    /// Reads and parses a template file.
    /// - Parameter path: The file.
    /// - Throws: ``WebhookError`` with code ``WebhookError/Code/templateFile`` or ``WebhookError/Code/template``.
    package static func load(path: String) throws(WebhookError) -> WebhookTemplate {
        let bytes: [UInt8]
        do {
            bytes = try SafeFile.readRegularFileFollowingSymlink(path, limit: 1 << 20).bytes
        } catch {
            throw WebhookError(
                code: .templateFile,
                message:
                    "cannot read webhook template \(path): \(error.reason ?? SystemCall.describe(errno: error.errno))")
        }
        return try WebhookTemplate(text: String(decoding: bytes, as: UTF8.self), path: path)
    }

    /// One line for a Mustache parse error (its position and reason), not a type dump.
    private static func describe(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Renders `event`.
    package func render(_ event: Event) -> String {
        template.render(WebhookTemplate.context(for: event))
    }

    /// The rendering context: the payload as dictionaries, arrays, strings, numbers and booleans (nulls omitted,
    /// so that `{{#previous}}` is false when there is none) plus the extra keys listed on the type; the JSON texts
    /// are the event's one encoding (``Event/encoded``).
    static func context(for event: Event) -> [String: Any] {
        var context = (mustacheValue(event.payload) as? [String: Any]) ?? [:]
        context["summary"] = WebhookSummary.line(for: event)
        context["severity"] = WebhookSummary.severity(for: event.type)
        context["payload_json"] = event.encoded.payload
        context["data_json"] = event.encoded.data
        return context
    }

    static func mustacheValue(_ value: JSONValue) -> Any? {
        switch value {
        case .null: return nil
        case .bool(let bool): return bool
        case .number(let number):
            if number == number.rounded(), abs(number) < 1e15 { return Int64(number) }
            return number
        case .string(let string): return string
        case .array(let values): return values.compactMap(mustacheValue)
        case .object(let members):
            var dictionary: [String: Any] = [:]
            for (key, member) in members {
                if let converted = mustacheValue(member) { dictionary[key] = converted }
            }
            return dictionary
        }
    }

    /// Registers the `JSON` content type with swift-mustache once per process.
    private static let registerJSONEscaping: Void = {
        MustacheContentTypes.register(JSONStringContentType(), named: "JSON")
    }()
}

/// Escapes text for the inside of a JSON string.
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        String(JSONValue.string(text).serialized().dropFirst().dropLast())
    }
}
