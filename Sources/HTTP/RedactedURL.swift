/// Removes secrets from URLs before they reach a log line, an error message or command output: the one definition
/// used everywhere (IMDS endpoints, webhook URLs, proxies, `config check`).
public enum RedactedURL {
    /// Returns `url` safe to show.
    ///
    /// - `user:password@` becomes `***@`;
    /// - every query value becomes `***` (names stay);
    /// - a fragment becomes `#***`;
    /// - the secret path segments of receivers that keep their secret in the path (Slack, Discord, Microsoft
    ///   Teams/Office 365 connectors and workflows, Google Chat), and any long token-like path segment, become `***`,
    ///   unless `revealingSecretPaths` (debug logging).
    ///
    /// The scheme, host, port and the rest of the path stay readable so that an operator can tell endpoints apart.
    /// - Parameters:
    ///   - url: Any URL string; strings that are not URLs come back with the same rules applied.
    ///   - revealingSecretPaths: Keep path segments (credentials, query values and fragments are masked anyway).
    /// - Returns: The redacted URL.
    public static func redact(_ url: String, revealingSecretPaths: Bool = false) -> String {
        var result = url
        var pathStart = result.startIndex
        if let schemeEnd = result.firstRange(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = result[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" }
                ?? result.endIndex
            if let at = result[authorityStart..<authorityEnd].lastIndex(of: "@") {
                result.replaceSubrange(authorityStart..<at, with: "***")
            }
            pathStart = result[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? result.endIndex
        }
        if let hash = result[pathStart...].firstIndex(of: "#") {
            result.replaceSubrange(result.index(after: hash)..., with: result.index(after: hash) == result.endIndex ? "" : "***")
        }
        if let question = result[pathStart...].firstIndex(of: "?") {
            let queryEnd = result[question...].firstIndex(of: "#") ?? result.endIndex
            let query = result[result.index(after: question)..<queryEnd]
            let masked = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                return pair[..<equals] + "=***"
            }.joined(separator: "&")
            result.replaceSubrange(result.index(after: question)..<queryEnd, with: masked)
        }
        guard !revealingSecretPaths, let schemeEnd = result.firstRange(of: "://"),
              let slash = result[schemeEnd.upperBound...].firstIndex(of: "/") else { return result }
        let pathEnd = result[slash...].firstIndex { $0 == "?" || $0 == "#" } ?? result.endIndex
        let host = result[schemeEnd.upperBound..<slash].lowercased()
        var segments = result[slash..<pathEnd].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let secretFrom = secretPathStart(host: host, segments: segments)
        for index in segments.indices where !segments[index].isEmpty {
            if let secretFrom, index >= secretFrom {
                segments[index] = "***"
            } else if looksLikeToken(segments[index]) {
                segments[index] = "***"
            }
        }
        return String(result[..<slash]) + segments.joined(separator: "/") + String(result[pathEnd...])
    }

    /// The index of the first secret path segment for receivers known to keep their secret in the path.
    static func secretPathStart(host: String, segments: [String]) -> Int? {
        let host = host.split(separator: "@").last.map { String($0.split(separator: ":").first ?? "") } ?? host
        if host.hasSuffix("hooks.slack.com"), let index = segments.firstIndex(of: "services") {
            return index + 2
        }
        if host.contains("discord"), let index = segments.firstIndex(of: "webhooks") {
            return index + 2
        }
        if host.hasSuffix("office.com") || host.hasSuffix("office365.com") {
            if let index = segments.firstIndex(where: { $0.hasPrefix("webhookb2") || $0 == "webhook" || $0 == "IncomingWebhook" }) {
                return index + 1
            }
        }
        if let index = segments.firstIndex(of: "IncomingWebhook") { return index + 1 }
        if host.hasSuffix("logic.azure.com") || host.hasSuffix("powerplatform.com"),
           let index = segments.firstIndex(of: "workflows") {
            return index + 1
        }
        if host == "chat.googleapis.com", let index = segments.firstIndex(of: "spaces") {
            return index + 1
        }
        return nil
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
