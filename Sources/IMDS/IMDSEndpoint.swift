import HTTP

/// Where the Instance Metadata Service is, resolved the way the AWS SDKs do.
package struct IMDSEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// The IPv4 link-local endpoint.
    package static let ipv4 = IMDSEndpoint(uncheckedBaseURL: "http://169.254.169.254")
    /// The IPv6 endpoint (Nitro instances).
    package static let ipv6 = IMDSEndpoint(uncheckedBaseURL: "http://[fd00:ec2::254]")

    /// The base URL without a trailing slash, e.g. `http://169.254.169.254`.
    package let baseURL: String

    private init(uncheckedBaseURL: String) {
        self.baseURL = uncheckedBaseURL
    }

    /// Validates an endpoint URL given by the user.
    /// - Parameter url: An `http://` URL with a host and optional port (a trailing `/` or `/latest` is accepted).
    /// - Throws: ``IMDSError`` with code `invalidConfiguration` naming the URL and what is wrong with it.
    package init(url: String) throws(IMDSError) {
        var base = url.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/latest") { base.removeLast("/latest".count) }
        guard base.lowercased().hasPrefix("http://") || base.lowercased().hasPrefix("https://") else {
            throw IMDSError(
                code: .invalidConfiguration, path: "", endpoint: RedactedURL.redact(url),
                message:
                    "invalid IMDS endpoint \(RedactedURL.redact(url)): it must start with http:// (for example http://169.254.169.254)"
            )
        }
        let hostPart = base.drop { $0 != "/" }.dropFirst(2)
        guard !hostPart.isEmpty, !hostPart.contains("/") else {
            throw IMDSError(
                code: .invalidConfiguration, path: "", endpoint: RedactedURL.redact(url),
                message: "invalid IMDS endpoint \(RedactedURL.redact(url)): expected scheme://host[:port] with no path"
            )
        }
        self.baseURL = base
    }

    /// Resolves the endpoint: `flag`, else `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else by
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` (`IPv4`, the default, or `IPv6`).
    /// - Parameters:
    ///   - flag: The `--endpoint` value or the config file's, if any (the caller applies that precedence).
    ///   - environment: The process environment.
    /// - Throws: ``IMDSError`` when `AWS_EC2_METADATA_DISABLED` is `true`, the URL is invalid, or the mode is unknown.
    package static func resolve(flag: String?, environment: [String: String]) throws(IMDSError) -> IMDSEndpoint {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" {
            throw IMDSError(
                code: .disabledByEnvironment, path: "", endpoint: "",
                message:
                    "IMDS access is disabled by AWS_EC2_METADATA_DISABLED=true; unset it to let imdswatch read instance metadata"
            )
        }
        if let flag, !flag.isEmpty {
            return try IMDSEndpoint(url: flag)
        }
        if let url = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"], !url.isEmpty {
            return try IMDSEndpoint(url: url)
        }
        switch environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() {
        case nil, "", "ipv4": return .ipv4
        case "ipv6": return .ipv6
        case let other?:
            throw IMDSError(
                code: .invalidConfiguration, path: "", endpoint: "",
                message: "invalid AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE \(other): expected IPv4 or IPv6"
            )
        }
    }

    /// Whether the host is link-local (`169.254.0.0/16`, `fe80::/10`, the EC2 IPv6 address `fd00:ec2::254`) or
    /// loopback (`127.0.0.0/8`, `::1`, `localhost`): where an instance metadata service (or a simulator) lives.
    package var isLinkLocalOrLoopback: Bool {
        var host = baseURL.drop { $0 != "/" }.dropFirst(2).prefix { $0 != "/" }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        let name: Substring
        if host.hasPrefix("[") {
            name = host.dropFirst().prefix { $0 != "]" }
        } else {
            name = host.prefix { $0 != ":" }
        }
        let lower = name.lowercased()
        return lower.hasPrefix("169.254.") || lower.hasPrefix("127.") || lower == "localhost" || lower == "::1"
            || lower.hasPrefix("fe8") || lower.hasPrefix("fe9") || lower.hasPrefix("fea") || lower.hasPrefix("feb")
            || lower == "fd00:ec2::254"
    }

    /// A warning for an endpoint that is neither link-local nor loopback (metadata and its token would cross the
    /// network), or `nil`.
    package var locationWarning: String? {
        isLinkLocalOrLoopback
            ? nil
            : "IMDS endpoint \(self) is neither link-local nor loopback: instance metadata and its session token would travel over the network"
    }

    /// The full URL of a path relative to `/latest/`.
    package func url(for path: String) -> String {
        baseURL + "/latest/" + path.drop { $0 == "/" }
    }

    /// The base URL for people: credentials, query values and fragments masked.
    package var description: String { RedactedURL.redact(baseURL) }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }
}
