import Events
import HTTP
import TOMLKit
import Webhooks

/// The `[webhook_defaults]` table and the `[[webhook]]` array of tables.
extension ConfigFileDecoder {
    /// The keys of a `[[webhook]]` table; `[webhook_defaults]` takes all but `url`.
    static let webhookKeys = [
        "url", "format", "template_file", "content_type", "secret_file", "headers", "events",
        "connect_timeout", "timeout", "proxy", "ca_bundle", "max_age", "follow_redirects",
    ]

    /// The schemes accepted for `proxy` (those libcurl knows).
    static let proxySchemes = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"]

    /// Reads every `[[webhook]]` table over `defaults`.
    mutating func webhooks(_ root: TOMLTable, defaults: WebhookEndpoint) -> [WebhookEndpoint] {
        guard let value = root["webhook"] else { return [] }
        guard let array = value.array else {
            fail("webhook", "expected [[webhook]] tables (an array of tables), got \(Self.describe(value))")
            return []
        }
        var endpoints: [WebhookEndpoint] = []
        for (index, element) in array.enumerated() {
            let path = "webhook[\(index)]"
            guard let table = element.table else {
                fail(path, "expected a table, got \(Self.describe(element))")
                continue
            }
            checkKeys(table, at: path, allowed: Self.webhookKeys)
            var settings = defaults
            applyWebhookKeys(table, at: path, to: &settings)
            guard let url = string(table, "url", at: path) else {
                if table["url"] == nil { fail(path + ".url", "missing: every [[webhook]] needs a url") }
                continue
            }
            if let problem = Validation.urlProblem(url, schemes: ["http", "https"]) {
                fail(path + ".url", problem)
                continue
            }
            if let problem = Self.templateProblem(settings) {
                fail(path + ".template_file", problem)
                continue
            }
            endpoints.append(WebhookEndpoint(url: url, defaults: settings))
        }
        return endpoints
    }

    /// What is wrong with the pairing of `format` and `template_file`, if anything.
    static func templateProblem(_ settings: WebhookEndpoint) -> String? {
        if settings.format == .template, settings.templateFile == nil {
            return "required when format is \"template\""
        }
        if settings.format != .template, settings.templateFile != nil {
            return "only used when format is \"template\", but format is \(Validation.quoted(settings.format.rawValue))"
        }
        return nil
    }

    /// Applies the webhook keys present in `table` to `settings`; headers are merged by name.
    mutating func applyWebhookKeys(_ table: TOMLTable, at path: String, to settings: inout WebhookEndpoint) {
        if let format = choice(table, "format", at: path, of: WebhookFormat.self) { settings.format = format }
        if let file = absolutePath(table, "template_file", at: path) { settings.templateFile = file }
        if let type = string(table, "content_type", at: path) {
            if type.contains("/"), !type.unicodeScalars.contains(where: { $0.value < 0x20 }) {
                settings.contentType = type
            } else {
                fail(
                    path + ".content_type",
                    "expected a media type such as \"application/json\", got \(Validation.quoted(type))")
            }
        }
        if let file = absolutePath(table, "secret_file", at: path) { settings.secretFile = file }
        if let headers = stringTable(table, "headers", at: path) {
            for (name, value) in headers {
                if let problem = Validation.headerProblem(name: name, value: value) {
                    fail(path + ".headers." + name, problem)
                    continue
                }
                settings.headers.removeAll { $0.name.lowercased() == name.lowercased() }
                settings.headers.append(HTTPHeader(name, value))
            }
            settings.headers.sort { $0.name < $1.name }
        }
        if let names = stringArray(table, "events", at: path) {
            var events: Set<EventType> = []
            for (index, name) in names {
                guard let type = EventType(rawValue: name) else {
                    let known = EventType.allCases.map(\.rawValue).joined(separator: ", ")
                    fail(
                        path + ".events[\(index)]",
                        "unknown event type \(Validation.quoted(name)); expected one of \(known)")
                    continue
                }
                events.insert(type)
            }
            settings.events = events
        }
        if let timeout = duration(table, "connect_timeout", at: path, maximum: .seconds(3600)) {
            settings.connectTimeout = timeout
        }
        if let timeout = duration(table, "timeout", at: path, maximum: .seconds(3600)) { settings.timeout = timeout }
        if let proxy = string(table, "proxy", at: path) {
            // "" is a URL of its own kind: no proxy at all, whatever the environment says.
            if !proxy.isEmpty, let problem = Validation.urlProblem(proxy, schemes: Self.proxySchemes) {
                fail(path + ".proxy", problem)
            } else {
                settings.proxy = .url(proxy)
            }
        }
        if let bundle = absolutePath(table, "ca_bundle", at: path) { settings.caBundlePath = bundle }
        if let age = duration(table, "max_age", at: path, maximum: .seconds(7 * 86400)) { settings.maxAge = age }
        if let follow = bool(table, "follow_redirects", at: path) { settings.followRedirects = follow }
    }
}
