import HTTP

/// Checks of single values shared by the file, the environment and the flags; each returns what is wrong,
/// or `nil` when the value is fine.
enum Validation {
    /// The largest interval or timeout accepted anywhere (one day): a larger one is surely a unit mistake.
    static let longestDuration = Duration.seconds(86400)

    /// Checks a URL: one of `schemes`, a host, an optional port 1...65535, no spaces or control characters.
    /// - Parameters:
    ///   - url: The URL as written.
    ///   - schemes: The schemes allowed, lowercase, e.g. `["http", "https"]`.
    /// - Returns: What is wrong with `url`, or `nil`.
    static func urlProblem(_ url: String, schemes: [String]) -> String? {
        let expected =
            schemes == ["http", "https"]
            ? "expected an http:// or https:// URL, got \(quotedURL(url))"
            : "expected a URL with scheme \(schemes.joined(separator: ", ")), got \(quotedURL(url))"
        guard
            !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
            let separator = url.firstRange(of: "://"),
            schemes.contains(url[..<separator.lowerBound].lowercased())
        else {
            return expected
        }
        let rest = url[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") { hostPort = authority[authority.index(after: at)...] }
        var host = hostPort
        var port: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return "invalid IPv6 host in \(quotedURL(url))" }
            host = hostPort[...close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "invalid host in \(quotedURL(url))" }
                port = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            port = hostPort[hostPort.index(after: colon)...]
        }
        guard !host.isEmpty, host != "[]" else { return "no host in \(quotedURL(url))" }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else {
                return "invalid port \(quoted(String(port))) in \(quotedURL(url))"
            }
        }
        return nil
    }

    /// Checks an IMDS endpoint: an `http://` or `https://` URL with no path but an optional `/` or `/latest`.
    /// - Parameter url: The endpoint as written.
    /// - Returns: What is wrong with it, or `nil`.
    static func endpointProblem(_ url: String) -> String? {
        if let problem = urlProblem(url, schemes: ["http", "https"]) { return problem }
        guard let separator = url.firstRange(of: "://") else { return nil }
        let rest = url[separator.upperBound...]
        var path = rest.drop { $0 != "/" && $0 != "?" && $0 != "#" }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard path.isEmpty || path == "/latest" else {
            return
                "expected scheme://host[:port] with no path (for example http://169.254.169.254), got \(quotedURL(url))"
        }
        return nil
    }

    /// Checks a path given in the config file: absolute, with no NUL.
    /// - Parameter path: The path as written.
    /// - Returns: What is wrong with it, or `nil`.
    static func absolutePathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.contains("\u{0}") { return "must not contain NUL" }
        guard path.hasPrefix("/") else { return "must be an absolute path, got \(quoted(path))" }
        return nil
    }

    /// Checks a path given on the command line or in the environment: not empty, no NUL.
    /// - Parameter path: The path as given.
    /// - Returns: What is wrong with it, or `nil`.
    static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "must not be empty" }
        if path.contains("\u{0}") { return "must not contain NUL" }
        return nil
    }

    /// Checks a duration against a range.
    /// - Parameters:
    ///   - value: The duration.
    ///   - minimum: The least allowed; when `exclusive`, the value must be greater.
    ///   - exclusive: Whether `minimum` itself is refused.
    ///   - maximum: The most allowed.
    /// - Returns: What is wrong with it, or `nil`.
    static func durationProblem(
        _ value: Duration, minimum: Duration = .zero, exclusive: Bool = true, maximum: Duration = longestDuration
    ) -> String? {
        if exclusive, value <= minimum {
            return "must be more than \(format(minimum)), got \(format(value))"
        }
        if !exclusive, value < minimum {
            return "must be at least \(format(minimum)), got \(format(value))"
        }
        if value > maximum {
            return "must be at most \(format(maximum)), got \(format(value))"
        }
        return nil
    }

    /// Checks a header name (an RFC 9110 token, not one imdswatch sets) and value (no CR, LF or NUL).
    /// - Parameters:
    ///   - name: The header name.
    ///   - value: The header value.
    /// - Returns: What is wrong, or `nil`.
    static func headerProblem(name: String, value: String) -> String? {
        let tokenSymbols = Set("!#$%&'*+-.^_`|~")
        guard !name.isEmpty,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || tokenSymbols.contains($0)) })
        else {
            return "invalid header name \(quoted(name))"
        }
        let lower = name.lowercased()
        if lower == "content-type" { return "set the Content-Type with content_type, not in headers" }
        if lower.hasPrefix("x-imdswatch-") || ["user-agent", "content-length", "host"].contains(lower) {
            return "the header \(name) is set by imdswatch"
        }
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\u{0}" }) {
            return "the value of header \(name) must not contain CR, LF or NUL"
        }
        return nil
    }

    /// Parses a duration: seconds as a number (`2`, `0.5`) or a string with one unit (`"500ms"`, `"90s"`,
    /// `"5m"`, `"1h"`, or `"2"` for seconds).
    /// - Parameter text: The string form.
    /// - Returns: The duration, or `nil` when `text` is not one (negative, not finite, unknown unit).
    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingSpaces()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count).trimmingSpaces()
            if unit == "s", number.hasSuffix("m") { continue }
            guard let value = Double(number) else { return nil }
            return seconds(value * factor)
        }
        return Double(trimmed).flatMap(seconds)
    }

    /// A duration of `value` seconds, or `nil` when `value` is negative, not finite, or absurdly large.
    static func seconds(_ value: Double) -> Duration? {
        guard value.isFinite, value >= 0, value < 1e12 else { return nil }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// A duration as seconds for messages: `90 s`, `0.05 s`.
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(Double(milliseconds) / 1000) s"
    }

    /// `text` in double quotes, with `"` and `\` escaped, as TOML would write it.
    /// A URL quoted for an error message, redacted first (``RedactedURL``): credentials and query values never
    /// reach a config error.
    static func quotedURL(_ url: String) -> String {
        quoted(RedactedURL.redact(url))
    }

    /// Checks an endpoint that will carry signed requests and credentials: plain `http://` only to a loopback host.
    /// - Returns: What is wrong, or `nil` (also for URLs that are not http at all: ``urlProblem(_:schemes:)`` says).
    static func cleartextProblem(_ url: String) -> String? {
        guard let separator = url.firstRange(of: "://"), url[..<separator.lowerBound].lowercased() == "http" else {
            return nil
        }
        let authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var host = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        let name = host.lowercased()
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        let loopback =
            name == "localhost" || name == "::1"
            || (octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil })
        if loopback { return nil }
        return
            "plain http:// to \(quotedURL(url)), not a loopback address, would send signed requests and the session token in clear text: use https://"
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for char in text {
            switch char {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.append(char)
            }
        }
        return result + "\""
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
