/// A failure the simulator injects on the requests to some paths.
///
/// JSON form (control API and scenarios):
/// `{"path": "meta-data/spot/", "kind": "status", "status": 503, "count": 2}`; `kind` is one of `status`
/// (with `status`), `delay` (with `seconds`), `hang`, `reset`, `malformed`, `oversized` (with `bytes`);
/// `count` omitted means always.
package struct Fault: Sendable, Codable, Equatable {
    /// What happens to a matching request.
    package enum Kind: Sendable, Equatable {
        /// Answer with this status code (and a short XHTML body) instead of the real answer.
        case status(Int)
        /// Wait this many seconds, then answer normally.
        case delay(seconds: Double)
        /// Never answer; the connection stays open until the simulator stops.
        case hang
        /// Reset the connection (TCP RST) without an answer.
        case reset
        /// Answer 200 with garbage instead of the real body.
        case malformed
        /// Answer 200 with a body of this many bytes.
        case oversized(bytes: Int)
    }

    /// The path or path prefix it applies to, relative to `/latest/` (`meta-data/spot/`, `api/token`);
    /// a leading `/` or `/latest/` is ignored; the empty string matches every IMDS path.
    package var path: String
    /// What happens.
    package var kind: Kind
    /// How many of the next matching requests it applies to; `nil` means every one.
    package var count: Int?

    /// Creates a fault.
    /// - Parameters:
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - kind: What happens.
    ///   - count: How many matching requests it applies to (`nil`: always).
    package init(path: String, kind: Kind, count: Int? = nil) {
        self.path = Fault.normalize(path)
        self.kind = kind
        self.count = count
    }

    /// A fault answering `status` on `path`.
    /// - Parameters:
    ///   - status: The status code to answer.
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func status(_ status: Int, on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .status(status), count: count)
    }

    /// A fault delaying answers on `path` by `seconds`.
    /// - Parameters:
    ///   - seconds: How long to wait before answering.
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func delay(_ seconds: Double, on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .delay(seconds: seconds), count: count)
    }

    /// A fault leaving requests on `path` unanswered.
    /// - Parameters:
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func hang(on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .hang, count: count)
    }

    /// A fault resetting connections of requests on `path`.
    /// - Parameters:
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func reset(on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .reset, count: count)
    }

    /// A fault answering garbage with status 200 on `path`.
    /// - Parameters:
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func malformed(on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .malformed, count: count)
    }

    /// A fault answering `bytes` bytes with status 200 on `path`.
    /// - Parameters:
    ///   - bytes: The body size.
    ///   - path: The path or prefix, relative to `/latest/`.
    ///   - count: How many matching requests it applies to (`nil`: always).
    /// - Returns: The fault.
    package static func oversized(_ bytes: Int, on path: String, count: Int? = nil) -> Fault {
        Fault(path: path, kind: .oversized(bytes: bytes), count: count)
    }

    /// Whether the fault applies to `path` (already relative to `/latest/`).
    func matches(_ path: String) -> Bool {
        path.hasPrefix(self.path)
    }

    /// `path` without a leading `/` or `latest/`.
    static func normalize(_ path: String) -> String {
        var result = Substring(path)
        while result.hasPrefix("/") { result = result.dropFirst() }
        if result.hasPrefix("latest/") { result = result.dropFirst("latest/".count) }
        if result == "latest" { result = "" }
        return String(result)
    }

    private enum CodingKeys: String, CodingKey {
        case path, kind, status, seconds, bytes, count
    }

    /// Decodes the flat JSON form.
    /// - Throws: `DecodingError` naming the field when `kind` is unknown, a parameter is missing or out of range.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let path = try container.decodeIfPresent(String.self, forKey: .path) ?? ""
        let count = try container.decodeIfPresent(Int.self, forKey: .count)
        if let count, count < 1 {
            throw DecodingError.dataCorruptedError(
                forKey: .count, in: container, debugDescription: "count must be at least 1 (omit it for always)")
        }
        let kindName = try container.decode(String.self, forKey: .kind)
        let kind: Kind
        switch kindName {
        case "status":
            let status = try container.decode(Int.self, forKey: .status)
            guard (100...999).contains(status) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .status, in: container, debugDescription: "status must be 100...999")
            }
            kind = .status(status)
        case "delay":
            let seconds = try container.decode(Double.self, forKey: .seconds)
            guard seconds >= 0, seconds <= 86_400 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .seconds, in: container, debugDescription: "seconds must be 0...86400")
            }
            kind = .delay(seconds: seconds)
        case "hang": kind = .hang
        case "reset": kind = .reset
        case "malformed": kind = .malformed
        case "oversized":
            let bytes = try container.decode(Int.self, forKey: .bytes)
            guard bytes >= 0, bytes <= 1 << 30 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .bytes, in: container, debugDescription: "bytes must be 0...1073741824")
            }
            kind = .oversized(bytes: bytes)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription:
                    "unknown fault kind \"\(kindName)\" (status, delay, hang, reset, malformed, oversized)"
            )
        }
        self.init(path: path, kind: kind, count: count)
    }

    /// Encodes the flat JSON form.
    /// - Throws: Nothing in practice (`EncodingError` only for non-finite numbers).
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encodeIfPresent(count, forKey: .count)
        switch kind {
        case .status(let status):
            try container.encode("status", forKey: .kind)
            try container.encode(status, forKey: .status)
        case .delay(let seconds):
            try container.encode("delay", forKey: .kind)
            try container.encode(seconds, forKey: .seconds)
        case .hang: try container.encode("hang", forKey: .kind)
        case .reset: try container.encode("reset", forKey: .kind)
        case .malformed: try container.encode("malformed", forKey: .kind)
        case .oversized(let bytes):
            try container.encode("oversized", forKey: .kind)
            try container.encode(bytes, forKey: .bytes)
        }
    }
}
