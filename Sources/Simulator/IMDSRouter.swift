import Foundation
import NIOCore
import NIOHTTP1

/// One answer, before it is written to the wire.
struct SimulatorResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: [(String, String)] = []
    var body: ByteBuffer

    /// A `text/plain` answer.
    static func text(_ status: HTTPResponseStatus, _ text: String, headers: [(String, String)] = [])
        -> SimulatorResponse
    {
        SimulatorResponse(
            status: status, headers: [("Content-Type", "text/plain")] + headers, body: ByteBuffer(string: text))
    }

    /// The XHTML error page the real service sends with 4xx and 5xx codes.
    static func errorPage(_ status: HTTPResponseStatus, headers: [(String, String)] = []) -> SimulatorResponse {
        let title = "\(status.code) - \(status.reasonPhrase)"
        let page = """
            <?xml version="1.0" encoding="iso-8859-1"?>
            <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
            \t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
            <html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
             <head>
              <title>\(title)</title>
             </head>
             <body>
              <h1>\(title)</h1>
             </body>
            </html>

            """
        return SimulatorResponse(
            status: status, headers: [("Content-Type", "text/html")] + headers, body: ByteBuffer(string: page))
    }

    /// A one-line JSON answer of the control API.
    static func json(_ status: HTTPResponseStatus, _ text: String) -> SimulatorResponse {
        SimulatorResponse(
            status: status, headers: [("Content-Type", "application/json")], body: ByteBuffer(string: text + "\n"))
    }

    /// A control-API error: `{"error": "..."}`.
    static func controlError(_ status: HTTPResponseStatus, _ message: String) -> SimulatorResponse {
        json(status, "{\"error\": \(JSONBody.quoted(message))}")
    }
}

/// A request path split the way IMDS reads it.
struct IMDSPath: Sendable {
    /// The first segment (`latest`, `2021-01-03`), or `nil` for `/`.
    var version: String?
    /// Percent-decoded segments after the version, without empty ones.
    var components: [String]
    /// The path relative to `/latest/` as counted in statistics and matched by faults.
    var key: String

    init(uri: String) {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let segments = path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
        version = segments.first
        components = Array(segments.dropFirst())
        key = Fault.normalize(path)
    }

    /// Whether this is a token path (`/VERSION/api/token`).
    var isToken: Bool { components == ["api", "token"] }

    /// Whether the version segment names a metadata version the service knows.
    var isKnownVersion: Bool {
        guard let version else { return true }
        if version == "latest" || version == "1.0" { return true }
        let parts = version.split(separator: "-")
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }
}

/// Answers IMDS requests from the shared state, enforcing the IMDSv2 token rules.
enum IMDSRouter {
    static let tokenHeader = "X-aws-ec2-metadata-token"
    static let ttlHeader = "X-aws-ec2-metadata-token-ttl-seconds"

    /// The answer to one request (faults are applied by the caller).
    static func respond(method: HTTPMethod, path: IMDSPath, headers: HTTPHeaders, core: SimulatorCore)
        -> SimulatorResponse
    {
        let state = core.state
        if state.imdsDisabled {
            return .errorPage(.forbidden)
        }
        if path.isToken {
            return tokenResponse(method: method, path: path, headers: headers, core: core)
        }
        guard method == .GET else {
            return .errorPage(.methodNotAllowed, headers: [("Allow", "GET")])
        }
        guard let token = headers.first(name: tokenHeader), !token.isEmpty,
            let remaining = core.remainingSeconds(of: token)
        else {
            return .errorPage(.unauthorized)
        }
        let ttl = [(ttlHeader, String(remaining))]
        guard path.isKnownVersion else { return .errorPage(.notFound, headers: ttl) }
        guard path.version != nil else {
            return .text(.ok, MetadataNode.versions.joined(separator: "\n"), headers: ttl)
        }
        if let answer = core.aws.metadataAnswer(
            components: path.components, ttlHeaders: ttl, accountID: state.accountId, role: state.iamRole)
        {
            return answer
        }

        let tree = MetadataNode.latest(state, now: Date())
        guard let node = tree.child(at: path.components) else {
            return .errorPage(.notFound, headers: ttl)
        }
        switch node {
        case .directory(let children):
            let topLevel = path.components.isEmpty
            let tagsDirectory = path.components == ["meta-data", "tags"]
            let entries = children.map { name, child in
                guard child.isDirectory, state.style == .real, !topLevel else { return name }
                if tagsDirectory, name == "instance" { return state.tagsListing.rawValue }
                return name + "/"
            }
            return .text(.ok, entries.joined(separator: "\n"), headers: ttl)
        case .listed(let listing, _):
            return .text(.ok, listing, headers: ttl)
        case .bytes(let bytes):
            return SimulatorResponse(
                status: .ok, headers: [("Content-Type", "application/octet-stream")] + ttl,
                body: ByteBuffer(bytes: bytes))
        case .text(let text):
            return .text(.ok, text, headers: ttl)
        case .json(let document, let realLayout):
            switch state.style {
            case .real:
                return .text(.ok, document.rendered(realLayout), headers: ttl)
            case .aemm:
                return SimulatorResponse(
                    status: .ok,
                    headers: [("Content-Type", "application/json")] + ttl,
                    body: ByteBuffer(string: document.rendered(.tabs))
                )
            }
        }
    }

    private static func tokenResponse(method: HTTPMethod, path: IMDSPath, headers: HTTPHeaders, core: SimulatorCore)
        -> SimulatorResponse
    {
        guard method == .PUT else {
            return .errorPage(.methodNotAllowed, headers: [("Allow", "PUT")])
        }
        if path.version != "latest" || headers.contains(name: "X-Forwarded-For") {
            return .errorPage(.forbidden)
        }
        guard let text = headers.first(name: ttlHeader), let ttl = Int(text.trimmingCharacters(in: .whitespaces)),
            (1...21_600).contains(ttl)
        else {
            return .errorPage(.badRequest)
        }
        let (token, granted) = core.issueToken(ttlSeconds: ttl)
        return .text(.ok, token, headers: [(ttlHeader, String(granted))])
    }
}
