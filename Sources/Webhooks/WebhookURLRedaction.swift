import HTTP

/// Masks what a webhook URL may hide: credentials, query values, and the secret path segments of well-known
/// receivers (Slack, Discord, Microsoft Teams), plus any long token-like path segment.
public enum WebhookURLRedaction {
    /// Returns `url` safe for a log line.
    /// - Parameter url: A webhook URL.
    /// - Returns: ``RedactedURL/redact(_:)`` of it with secret path segments replaced by `***`.
    public static func redact(_ url: String) -> String {
        let base = RedactedURL.redact(url)
        guard let schemeEnd = base.firstRange(of: "://") else { return base }
        let afterScheme = base[schemeEnd.upperBound...]
        guard let pathStart = afterScheme.firstIndex(of: "/") else { return base }
        let pathEnd = base[pathStart...].firstIndex { $0 == "?" || $0 == "#" } ?? base.endIndex
        let host = base[schemeEnd.upperBound..<pathStart].lowercased()
        var segments = base[pathStart..<pathEnd].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var secretFrom: Int?
        if host.hasSuffix("hooks.slack.com"), let index = segments.firstIndex(of: "services") {
            secretFrom = index + 2
        } else if let index = segments.firstIndex(of: "webhooks"), host.contains("discord") {
            secretFrom = index + 2
        } else if let index = segments.firstIndex(where: { $0.hasPrefix("webhookb2") || $0 == "IncomingWebhook" }) {
            secretFrom = index + 1
        }
        for index in segments.indices {
            if let secretFrom, index >= secretFrom, !segments[index].isEmpty {
                segments[index] = "***"
            } else if looksLikeToken(segments[index]) {
                segments[index] = "***"
            }
        }
        return String(base[..<pathStart]) + segments.joined(separator: "/") + String(base[pathEnd...])
    }

    /// A segment of at least 20 letters, digits, `-` or `_`, with both letters and digits: probably a token.
    static func looksLikeToken(_ segment: String) -> Bool {
        guard segment.count >= 20 else { return false }
        var letters = false
        var digits = false
        for scalar in segment.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z": letters = true
            case "0"..."9": digits = true
            case "-", "_": break
            default: return false
            }
        }
        return letters && digits
    }
}
