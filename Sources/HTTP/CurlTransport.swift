internal import CCurl
import Dispatch
import Synchronization

/// An ``HTTPTransport`` over libcurl easy handles.
///
/// Handles are pooled and reused most-recently-used first, so that sequential requests share one kept-alive
/// connection; concurrent requests each get a handle of their own, so that one slow request never delays another.
/// Blocking `curl_easy_perform` runs on Dispatch threads, never on the cooperative pool, and a cancelled task
/// aborts its transfer (libcurl checks at least once a second).
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
        /// Idle handles (each with its kept-alive connection) kept for reuse.
        public var maxIdleHandles: Int

        /// Creates options.
        public init(proxy: Proxy = .never, caBundlePath: String? = nil, userAgent: String? = nil, maxIdleHandles: Int = 4) {
            self.proxy = proxy
            self.caBundlePath = caBundlePath
            self.userAgent = userAgent
            self.maxIdleHandles = maxIdleHandles
        }
    }

    private let options: Options
    private let idle = Mutex<[EasyHandle]>([])

    /// Creates a transport.
    /// - Parameter options: Proxy, TLS and user-agent settings.
    public init(options: Options = Options()) {
        CurlGlobal.ensureInitialized()
        self.options = options
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let handle = idle.withLock { $0.popLast() } ?? EasyHandle()
        let cancellation = CancellationFlag()
        let result: Result<HTTPResponse, HTTPError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(returning: self.perform(request, on: handle.pointer, cancellation: cancellation))
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        idle.withLock { handles in
            if handles.count < options.maxIdleHandles { handles.append(handle) }
        }
        return try result.get()
    }

    /// Runs one exchange on `handle`, which no other thread uses meanwhile.
    private func perform(_ request: HTTPRequest, on handle: UnsafeMutableRawPointer, cancellation: CancellationFlag) -> Result<HTTPResponse, HTTPError> {
        curl_easy_reset(handle)
        let accumulator = ResponseAccumulator(limit: request.maxResponseBytes, cancellation: cancellation)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
            withExtendedLifetime(accumulator) {
                configure(request, on: handle, accumulator: accumulator, headerList: &headerList, errorBuffer: errorPointer.baseAddress)
                return curl_easy_perform(handle)
            }
        }

        if code != CURLE_OK {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(error(for: code, on: handle, detail: detail, request: request, accumulator: accumulator))
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
        on handle: UnsafeMutableRawPointer,
        accumulator: ResponseAccumulator,
        headerList: inout UnsafeMutablePointer<curl_slist>?,
        errorBuffer: UnsafeMutablePointer<CChar>?
    ) {
        imdswatch_curl_setopt_string(handle, CURLOPT_URL, request.url)
        imdswatch_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        // The path is sent as given: a tag key such as `..` must not be folded into its parent directory.
        imdswatch_curl_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
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
        imdswatch_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        imdswatch_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        imdswatch_curl_setopt_xferinfo_function(handle) { context, _, _, _, _ in
            guard let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            return accumulator.cancellation.isCancelled ? 1 : 0
        }
        imdswatch_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
        imdswatch_curl_setopt_header_function(handle) { data, size, count, context in
            guard let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            accumulator.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
    }

    private func error(for code: CURLcode, on handle: UnsafeMutableRawPointer, detail: String, request: HTTPRequest, accumulator: ResponseAccumulator) -> HTTPError {
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
        case CURLE_ABORTED_BY_CALLBACK:
            kind = .cancelled
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
    let cancellation: CancellationFlag
    var body: [UInt8] = []
    var headers: [HTTPHeader] = []
    var exceededLimit = false

    init(limit: Int, cancellation: CancellationFlag) {
        self.limit = limit
        self.cancellation = cancellation
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
        if bytes.starts(with: "HTTP/".utf8) {
            headers.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        // Header values are trimmed of ASCII white space byte-wise: no per-line allocations beyond the two strings.
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        headers.append(HTTPHeader(name, value))
    }
}

/// One libcurl easy handle, used by one request at a time (the pool hands it out exclusively).
private final class EasyHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init() {
        guard let pointer = curl_easy_init() else {
            // curl_easy_init fails only when memory is exhausted; there is nothing sensible left to do.
            fatalError("curl_easy_init failed: out of memory")
        }
        self.pointer = pointer
    }

    deinit {
        curl_easy_cleanup(pointer)
    }
}

/// Set when the task waiting for a transfer is cancelled; read by libcurl's progress callback.
private final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func cancel() { flag.store(true, ordering: .relaxed) }

    var isCancelled: Bool { flag.load(ordering: .relaxed) }
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
