/// Removes credentials from URLs before they reach a log line or an error message.
public enum RedactedURL {
    /// Returns `url` with any `user:password@` replaced by `***@` and every query value replaced by `***`.
    ///
    /// The scheme, host, port and path stay readable so that an operator can tell endpoints apart.
    /// - Parameter url: Any URL string; strings that are not URLs come back with the same rules applied.
    /// - Returns: The redacted URL.
    public static func redact(_ url: String) -> String {
        var result = url
        if let schemeEnd = result.firstRange(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = result[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" }
                ?? result.endIndex
            if let at = result[authorityStart..<authorityEnd].lastIndex(of: "@") {
                result.replaceSubrange(authorityStart..<at, with: "***")
            }
        }
        if let question = result.firstIndex(of: "?") {
            let fragmentStart = result[question...].firstIndex(of: "#") ?? result.endIndex
            let query = result[result.index(after: question)..<fragmentStart]
            let masked = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
                guard let equals = pair.firstIndex(of: "=") else { return String(pair) }
                return pair[..<equals] + "=***"
            }.joined(separator: "&")
            result.replaceSubrange(result.index(after: question)..<fragmentStart, with: masked)
        }
        return result
    }
}
