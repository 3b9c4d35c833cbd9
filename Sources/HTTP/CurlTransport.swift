internal import CCurl
import Dispatch

/// An ``HTTPTransport`` over one libcurl easy handle.
///
/// The handle is reused for every request, so connections stay alive where the server allows. Requests are
/// performed one at a time on a private serial queue (blocking `curl_easy_perform` never runs on the
/// cooperative pool); concurrent callers queue up in order.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    /// How requests reach the network.
    public struct Options: Sendable {
        /// How a proxy is chosen.
        public enum Proxy: Sendable, Equatable {
            /// Never use a proxy, whatever the environment says (IMDS is link-local).
            case never
            /// libcurl's usual environment variables (`http_proxy`, `https_proxy`, `no_proxy`).
            case environment
            /// This proxy URL.
            case url(String)
        }

        /// The proxy policy.
        public var proxy: Proxy
        /// A CA bundle file for TLS verification; `nil` uses the system's. Verification is always on.
        public var caBundlePath: String?
        /// The `User-Agent` header; `nil` sends none.
        public var userAgent: String?

        /// Creates options.
        public init(proxy: Proxy = .never, caBundlePath: String? = nil, userAgent: String? = nil) {
            self.proxy = proxy
            self.caBundlePath = caBundlePath
            self.userAgent = userAgent
        }
    }

    private let options: Options
    private let queue: DispatchQueue
    // Touched only on `queue`.
    private let handle: UnsafeMutableRawPointer

    /// Creates a transport with its own easy handle.
    /// - Parameter options: Proxy, TLS and user-agent settings.
    public init(options: Options = Options()) {
        CurlGlobal.ensureInitialized()
        guard let handle = curl_easy_init() else {
            // curl_easy_init fails only when memory is exhausted; there is nothing sensible left to do.
            fatalError("curl_easy_init failed: out of memory")
        }
        self.handle = handle
        self.options = options
        self.queue = DispatchQueue(label: "imdswatch.curl")
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.perform(request))
            }
        }
        return try result.get()
    }

    /// Runs one exchange on the handle. Called only on `queue`.
    private func perform(_ request: HTTPRequest) -> Result<HTTPResponse, HTTPError> {
        curl_easy_reset(handle)
        let accumulator = ResponseAccumulator(limit: request.maxResponseBytes)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            withExtendedLifetime(accumulator) {
                configure(request, accumulator: accumulator, headerList: &headerList, errorBuffer: errorPointer.baseAddress)
                return curl_easy_perform(handle)
            }
        }

        if code != CURLE_OK {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(error(for: code, detail: detail, request: request, accumulator: accumulator))
        }
        var status = 0
        imdswatch_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        imdswatch_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return .success(HTTPResponse(
            status: status,
            headers: accumulator.headers,
            body: accumulator.body,
            newConnections: connects
        ))
    }

    private func configure(
        _ request: HTTPRequest,
        accumulator: ResponseAccumulator,
        headerList: inout UnsafeMutablePointer<curl_slist>?,
        errorBuffer: UnsafeMutablePointer<CChar>?
    ) {
        imdswatch_curl_setopt_string(handle, CURLOPT_URL, request.url)
        imdswatch_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        imdswatch_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        imdswatch_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.totalTimeout.milliseconds)
        imdswatch_curl_setopt_long(handle, CURLOPT_MAXFILESIZE, request.maxResponseBytes)
        imdswatch_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        imdswatch_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        imdswatch_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        imdswatch_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        imdswatch_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        if let caBundlePath = options.caBundlePath {
            imdswatch_curl_setopt_string(handle, CURLOPT_CAINFO, caBundlePath)
        }
        switch options.proxy {
        case .never:
            imdswatch_curl_setopt_string(handle, CURLOPT_NOPROXY, "*")
            imdswatch_curl_setopt_string(handle, CURLOPT_PROXY, "")
        case .environment:
            break
        case .url(let proxy):
            imdswatch_curl_setopt_string(handle, CURLOPT_PROXY, proxy)
        }
        if let userAgent = options.userAgent {
            imdswatch_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent)
        }

        switch request.method {
        case .get:
            imdswatch_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case .put, .post:
            let body = request.body ?? []
            imdswatch_curl_setopt_long(handle, CURLOPT_POST, 1)
            imdswatch_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
            body.withUnsafeBufferPointer { buffer in
                // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    imdswatch_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: chars.baseAddress ?? UnsafePointer(emptyBody)))
                }
            }
            if request.method == .put {
                imdswatch_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, "PUT")
            }
        }

        var fields = request.headers.map { "\($0.name): \($0.value)" }
        let names = Set(request.headers.map { $0.name.lowercased() })
        // libcurl adds these unless told not to; neither belongs on our requests.
        if !names.contains("content-type") { fields.append("Content-Type:") }
        fields.append("Expect:")
        for field in fields {
            headerList = curl_slist_append(headerList, field)
        }
        imdswatch_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)

        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        imdswatch_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        imdswatch_curl_setopt_write_function(handle) { data, size, count, context in
            guard let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            return accumulator.appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        imdswatch_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        imdswatch_curl_setopt_header_function(handle) { data, size, count, context in
            guard let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            accumulator.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
    }

    private func error(for code: CURLcode, detail: String, request: HTTPRequest, accumulator: ResponseAccumulator) -> HTTPError {
        var osErrno = 0
        imdswatch_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
        // Pre-transfer time is set once the request is about to be sent, on a new or a reused connection; 0 means
        // the connection was never established. (Connect time is 0 on reused connections, so it cannot tell.)
        var pretransferTime = 0.0
        imdswatch_curl_getinfo_double(handle, CURLINFO_PRETRANSFER_TIME, &pretransferTime)
        let kind: HTTPError.Code
        switch code {
        case CURLE_COULDNT_CONNECT:
            // 111 is ECONNREFUSED; 101/113 are ENETUNREACH/EHOSTUNREACH.
            kind = osErrno == 111 ? .connectionRefused : (osErrno == 101 || osErrno == 113 ? .unreachable : .connectionRefused)
        case CURLE_OPERATION_TIMEDOUT:
            kind = pretransferTime == 0 ? .connectTimedOut : .timedOut
        case CURLE_FILESIZE_EXCEEDED:
            kind = .responseTooLarge
        case CURLE_WRITE_ERROR where accumulator.exceededLimit:
            kind = .responseTooLarge
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            kind = .connectionReset
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            kind = .couldNotResolve
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            kind = .invalidURL
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE:
            kind = .tls
        default:
            kind = .other
        }
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let message = kind == .responseTooLarge ? "response larger than \(request.maxResponseBytes) bytes" : text
        return HTTPError(code: kind, curlCode: Int32(code.rawValue), detail: message, url: request.url)
    }
}

/// A non-empty address for COPYPOSTFIELDS when the body is empty (libcurl reads zero bytes from it).
nonisolated(unsafe) private let emptyBody = UnsafeMutablePointer<CChar>.allocate(capacity: 1)

/// Collects one response's headers and body inside libcurl's callbacks.
private final class ResponseAccumulator {
    let limit: Int
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends body bytes; returns the count consumed, or 0 to make libcurl abort when over the cap.
    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if body.count + bytes.count > limit {
            exceededLimit = true
            return 0
        }
        body.append(contentsOf: bytes)
        return bytes.count
    }

    /// Parses one raw header line; a status line starts a new header block (after redirects or 100 Continue).
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t\r\n")
        headers.append(HTTPHeader(name, value))
    }
}

/// `curl_global_init` must run once, before any other thread uses libcurl.
private enum CurlGlobal {
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func ensureInitialized() {
        _ = initialized
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 (libcurl reads 0 as "no timeout").
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

extension StringProtocol {
    /// The string without leading and trailing characters from `set`.
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let start = firstIndex(where: { !characters.contains($0) }) else { return "" }
        guard let end = lastIndex(where: { !characters.contains($0) }) else { return "" }
        return String(self[start...end])
    }
}
