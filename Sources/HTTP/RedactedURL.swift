/// Removes secrets from URLs before they reach a log line, an error message or command output: the one definition
/// used everywhere (IMDS endpoints, webhook URLs, proxies, `config check`).
package enum RedactedURL {
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
    package static func redact(_ url: String, revealingSecretPaths: Bool = false) -> String {
        let parts = URLParts(url)
        var result = String(parts.scheme)
        if let authority = parts.authority {
            if authority.userInfo != nil { result += "***@" }
            result += authority.hostPort
        }
        if let authority = parts.authority, !revealingSecretPaths, !parts.path.isEmpty {
            var segments = parts.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let secretFrom = secretPathStart(host: authority.hostPort.lowercased(), segments: segments)
            for index in segments.indices where !segments[index].isEmpty {
                if let secretFrom, index >= secretFrom {
                    segments[index] = "***"
                } else if looksLikeToken(segments[index]) {
                    segments[index] = "***"
                }
            }
            result += segments.joined(separator: "/")
        } else {
            result += parts.path
        }
        if let query = parts.query {
            result +=
                "?"
                + query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                    guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                    return pair[..<equals] + "=***"
                }.joined(separator: "&")
        }
        if let fragment = parts.fragment {
            result += fragment.isEmpty ? "#" : "#***"
        }
        return result
    }

    /// Returns `url` without credentials, query or fragment: `https://user:pw@host:8443/path?token=x#f` becomes
    /// `https://host:8443/path`. For labels that must name an endpoint without any secret it may carry
    /// (the `endpoint` label of `imdswatch_webhook_deliveries_total`).
    /// - Parameter url: Any URL string.
    /// - Returns: Scheme, host, port and path only.
    package static func endpoint(_ url: String) -> String {
        let parts = URLParts(url)
        return String(parts.scheme) + (parts.authority?.hostPort ?? "") + parts.path
    }

    /// A URL string cut into the pieces redaction treats differently, found in one pass.
    ///
    /// The authority (after `://`) ends at the first `/`, `?` or `#`; its user info is everything before its last
    /// `@`. The path runs to the first `?` or `#`; a query only exists when `?` comes before any `#`. A string without
    /// `://` has no scheme and no authority: it is all path, query and fragment.
    struct URLParts {
        /// The user info and the host and port of an authority.
        struct Authority {
            var userInfo: Substring?
            var hostPort: Substring
        }

        /// The scheme with its `://` (empty when there is none).
        var scheme: Substring
        var authority: Authority?
        var path: Substring
        /// Without the `?`.
        var query: Substring?
        /// Without the `#`.
        var fragment: Substring?

        init(_ url: String) {
            var rest = url[...]
            if let schemeEnd = url.firstRange(of: "://") {
                scheme = url[..<schemeEnd.upperBound]
                let authorityEnd =
                    url[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
                let authority = url[schemeEnd.upperBound..<authorityEnd]
                if let at = authority.lastIndex(of: "@") {
                    self.authority = Authority(
                        userInfo: authority[..<at], hostPort: authority[authority.index(after: at)...])
                } else {
                    self.authority = Authority(userInfo: nil, hostPort: authority)
                }
                rest = url[authorityEnd...]
            } else {
                scheme = url[url.startIndex..<url.startIndex]
                authority = nil
            }
            let pathEnd = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
            path = rest[..<pathEnd]
            rest = rest[pathEnd...]
            if rest.first == "?" {
                let queryEnd = rest.firstIndex(of: "#") ?? rest.endIndex
                query = rest[rest.index(after: rest.startIndex)..<queryEnd]
                rest = rest[queryEnd...]
            } else {
                query = nil
            }
            fragment = rest.first == "#" ? rest.dropFirst() : nil
        }
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
            if let index = segments.firstIndex(where: {
                $0.hasPrefix("webhookb2") || $0 == "webhook" || $0 == "IncomingWebhook"
            }) {
                return index + 1
            }
        }
        if let index = segments.firstIndex(of: "IncomingWebhook") { return index + 1 }
        if host.hasSuffix("logic.azure.com") || host.hasSuffix("powerplatform.com"),
            let index = segments.firstIndex(of: "workflows")
        {
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
