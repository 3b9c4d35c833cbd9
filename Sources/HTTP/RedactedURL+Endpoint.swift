extension RedactedURL {
    /// Returns `url` without credentials, query or fragment: `https://user:pw@host:8443/path?token=x#f` becomes
    /// `https://host:8443/path`. For labels that must name an endpoint without any secret it may carry
    /// (the `endpoint` label of `imdswatch_webhook_deliveries_total`).
    /// - Parameter url: Any URL string.
    /// - Returns: Scheme, host, port and path only.
    public static func endpoint(_ url: String) -> String {
        var result = url
        if let end = result.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            result = String(result[..<end])
        }
        if let schemeEnd = result.firstRange(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = result[authorityStart...].firstIndex(of: "/") ?? result.endIndex
            if let at = result[authorityStart..<authorityEnd].lastIndex(of: "@") {
                result.removeSubrange(authorityStart...at)
            }
        }
        return result
    }
}
