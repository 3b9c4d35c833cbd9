import Crypto
import Events

/// AWS credentials: an access key, its secret, and the session token of temporary credentials.
///
/// `description` never shows the secret or the token.
package struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA…` or, for temporary credentials, `ASIA…`).
    package var accessKeyID: String
    /// The secret access key. Never logged.
    package var secretAccessKey: String
    /// The session token of temporary credentials (sent as `X-Amz-Security-Token`); `nil` for long-term keys.
    package var sessionToken: String?

    /// Creates credentials.
    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    package var description: String { "access key \(accessKeyID)" }
}

/// One request as AWS Signature Version 4 sees it.
package struct SigV4Request: Sendable {
    /// `GET`, `POST`…
    package var method: String
    /// The absolute URL (`https://host[:port]/path?query`); the path is used as given (already normalized).
    package var url: String
    /// The header fields to sign (besides `host`, `x-amz-date` and `x-amz-security-token`, which the signer adds).
    package var headers: [(name: String, value: String)]
    /// The body bytes (their SHA-256 is the payload hash).
    package var body: [UInt8]

    /// Creates a request.
    package init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// AWS Signature Version 4 (header form), pure: no clock, no I/O. The date is passed in.
///
/// Follows the published algorithm: canonical request, string to sign, signing key derived from the secret by
/// HMAC-SHA256 over date, region, service and `aws4_request`.
package struct SigV4Signer: Sendable {
    /// The region of the scope (`eu-west-1`).
    package var region: String
    /// The service of the scope (`autoscaling`).
    package var service: String

    /// Creates a signer for one region and service.
    package init(region: String, service: String) {
        self.region = region
        self.service = service
    }

    /// The signed request's extra header fields: `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials
    /// only) and `Authorization`, in that order.
    /// - Parameters:
    ///   - request: The request; its `host` comes from the URL.
    ///   - credentials: The keys.
    ///   - amzDate: The time as `YYYYMMDDTHHMMSSZ` (see ``amzDate(epochSeconds:)``).
    /// - Returns: The header fields to add. Never throws.
    package func sign(_ request: SigV4Request, credentials: AWSCredentials, amzDate: String) -> [(
        name: String, value: String
    )] {
        var added: [(name: String, value: String)] = [("X-Amz-Date", amzDate)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        var signed = request
        signed.headers += added
        added.append(("Authorization", authorization(signed, credentials: credentials, amzDate: amzDate)))
        return added
    }

    /// The `Authorization` value for a request that already carries every header to sign (`X-Amz-Date`,
    /// `X-Amz-Security-Token` included); `host` is taken from the URL unless a `Host` field is present.
    package func authorization(_ request: SigV4Request, credentials: AWSCredentials, amzDate: String) -> String {
        let parts = canonicalParts(request)
        let signature = self.signature(
            canonicalRequest: parts.canonicalRequest, secret: credentials.secretAccessKey, amzDate: amzDate)
        let scope = credentialScope(amzDate: amzDate)
        return
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(parts.signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and the `SignedHeaders` list.
    package func canonicalParts(_ request: SigV4Request) -> (canonicalRequest: String, signedHeaders: String) {
        let url = Self.split(request.url)
        var fields = request.headers.map { (name: $0.name.lowercased(), value: Self.trimmed($0.value)) }
        if !fields.contains(where: { $0.name == "host" }) { fields.append(("host", url.host)) }
        var grouped: [String: [String]] = [:]
        for field in fields { grouped[field.name, default: []].append(field.value) }
        let names = grouped.keys.sorted(by: Self.byteOrder)
        let canonicalHeaders = names.map { "\($0):\(grouped[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [
            request.method,
            Self.encode(url.path.isEmpty ? "/" : url.path, keepSlash: true),
            Self.canonicalQuery(url.query),
            canonicalHeaders,
            signedHeaders,
            Self.hex(SHA256.hash(data: request.body)),
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// `DATE/REGION/SERVICE/aws4_request`.
    package func credentialScope(amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The hex signature of a canonical request.
    package func signature(canonicalRequest: String, secret: String, amzDate: String) -> String {
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, credentialScope(amzDate: amzDate),
            Self.hex(SHA256.hash(data: Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [String(amzDate.prefix(8)), region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// `YYYYMMDDTHHMMSSZ` for a Unix time (UTC, proleptic Gregorian).
    package static func amzDate(epochSeconds: Int64) -> String {
        let time = Timestamp.civilTime(seconds: epochSeconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(time.year)\(two(time.month))\(two(time.day))T\(two(time.hour))\(two(time.minute))\(two(time.second))Z"
    }

    /// Percent-encodes every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`), and `/` when `keepSlash`.
    package static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.unicodeScalars.append(UnicodeScalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                result.append("/")
            default:
                let digits = Array("0123456789ABCDEF")
                result.append("%")
                result.append(digits[Int(byte >> 4)])
                result.append(digits[Int(byte & 0x0F)])
            }
        }
        return result
    }

    /// A form body or query string: `key=value` pairs, encoded, joined by `&`, in the order given.
    package static func formEncode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// Decodes `%XX` escapes (and nothing else); invalid escapes stay as they are.
    package static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        let source = Array(text.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "%"), index + 2 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = encode(percentDecode(String(parts[0])))
            let value = parts.count > 1 ? encode(percentDecode(String(parts[1]))) : ""
            return (key, value)
        }
        return pairs.sorted { byteOrder($0.0, $1.0) || ($0.0 == $1.0 && byteOrder($0.1, $1.1)) }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static func split(_ url: String) -> (host: String, path: String, query: String) {
        var rest = Substring(url)
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var host = String(rest[..<authorityEnd])
        if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
        let isHTTPS = url.lowercased().hasPrefix("https://")
        if (isHTTPS && host.hasSuffix(":443")) || (!isHTTPS && host.hasSuffix(":80")) {
            host = String(host[..<(host.lastIndex(of: ":") ?? host.endIndex)])
        }
        rest = rest[authorityEnd...]
        let queryStart = rest.firstIndex(of: "?")
        let path = String(rest[..<(queryStart ?? rest.endIndex)])
        let query = queryStart.map { String(rest[rest.index(after: $0)...]) } ?? ""
        return (host.lowercased(), path, query)
    }

    private static func trimmed(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    private static func byteOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        var result = ""
        for byte in digest {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return result
    }
}
