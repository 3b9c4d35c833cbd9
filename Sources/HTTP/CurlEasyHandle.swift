internal import CCurl

/// One libcurl easy handle with the buffers of the exchange it carries; used by one transfer at a time, on the event
/// loop's thread only.
///
/// Options that never change (callbacks, TLS, proxy, path handling) are set once when the handle is made; a request
/// sets only its URL, method, timeouts and headers, and reuses the previous header list when the headers are the
/// same (the IMDS token header changes only when the token does).
final class CurlEasyHandle {
    let pointer: UnsafeMutableRawPointer
    let response = ResponseAccumulator()
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var headerListFields: [HTTPHeader]?
    private var request: HTTPRequest?

    init(options: CurlTransport.Options) {
        guard let pointer = curl_easy_init() else {
            // curl_easy_init fails only when memory is exhausted; there is nothing sensible left to do.
            fatalError("curl_easy_init failed: out of memory")
        }
        self.pointer = pointer
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        setInvariantOptions(options)
    }

    deinit {
        curl_easy_cleanup(pointer)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Prepares the handle for `request`.
    func prepare(_ request: HTTPRequest) {
        self.request = request
        response.reset(limit: request.maxResponseBytes, keeping: request.responseHeaders)
        errorBuffer[0] = 0
        imdswatch_curl_setopt_string(pointer, CURLOPT_URL, request.url)
        imdswatch_curl_setopt_long(pointer, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds)
        imdswatch_curl_setopt_long(pointer, CURLOPT_TIMEOUT_MS, request.totalTimeout.milliseconds)
        imdswatch_curl_setopt_long(pointer, CURLOPT_MAXFILESIZE, request.maxResponseBytes)
        switch request.method {
        case .get:
            imdswatch_curl_setopt_string(pointer, CURLOPT_CUSTOMREQUEST, nil)
            imdswatch_curl_setopt_long(pointer, CURLOPT_HTTPGET, 1)
        case .put, .post:
            let body = request.body ?? []
            imdswatch_curl_setopt_long(pointer, CURLOPT_POST, 1)
            imdswatch_curl_setopt_long(pointer, CURLOPT_POSTFIELDSIZE, body.count)
            _ = body.withUnsafeBufferPointer { buffer in
                // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                buffer.withMemoryRebound(to: CChar.self) { chars in
                    imdswatch_curl_setopt_pointer(
                        pointer, CURLOPT_COPYPOSTFIELDS,
                        UnsafeMutableRawPointer(mutating: chars.baseAddress ?? UnsafePointer(emptyBody)))
                }
            }
            imdswatch_curl_setopt_string(pointer, CURLOPT_CUSTOMREQUEST, request.method == .put ? "PUT" : nil)
        }
        if headerListFields != request.headers {
            curl_slist_free_all(headerList)
            headerList = Self.makeHeaderList(request.headers)
            headerListFields = request.headers
            imdswatch_curl_setopt_slist(pointer, CURLOPT_HTTPHEADER, headerList)
        }
    }

    /// The outcome of the finished transfer, given libcurl's result code.
    func finish(_ code: CURLcode) -> Result<HTTPResponse, HTTPError> {
        guard let request else { return .failure(HTTPError(code: .other, detail: "no request", url: "")) }
        self.request = nil
        if code != CURLE_OK {
            return .failure(error(for: code, request: request))
        }
        var status = 0
        imdswatch_curl_getinfo_long(pointer, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        imdswatch_curl_getinfo_long(pointer, CURLINFO_NUM_CONNECTS, &connects)
        return .success(
            HTTPResponse(
                status: status,
                headers: response.headers,
                body: response.body,
                newConnections: connects
            ))
    }

    /// The error of a transfer aborted because its task was cancelled.
    func cancelled() -> HTTPError {
        let url = request?.url ?? ""
        request = nil
        return HTTPError(code: .cancelled, detail: "cancelled", url: url)
    }

    private func setInvariantOptions(_ options: CurlTransport.Options) {
        imdswatch_curl_setopt_long(pointer, CURLOPT_NOSIGNAL, 1)
        // The path is sent as given: a tag key such as `..` must not be folded into its parent directory.
        imdswatch_curl_setopt_long(pointer, CURLOPT_PATH_AS_IS, 1)
        imdswatch_curl_setopt_long(pointer, CURLOPT_FOLLOWLOCATION, 0)
        imdswatch_curl_setopt_long(pointer, CURLOPT_SSL_VERIFYPEER, 1)
        imdswatch_curl_setopt_long(pointer, CURLOPT_SSL_VERIFYHOST, 2)
        imdswatch_curl_setopt_long(pointer, CURLOPT_TCP_KEEPALIVE, 1)
        imdswatch_curl_setopt_pointer(pointer, CURLOPT_ERRORBUFFER, errorBuffer)
        if let caBundlePath = options.caBundlePath {
            imdswatch_curl_setopt_string(pointer, CURLOPT_CAINFO, caBundlePath)
        }
        switch options.proxy {
        case .never:
            imdswatch_curl_setopt_string(pointer, CURLOPT_NOPROXY, "*")
            imdswatch_curl_setopt_string(pointer, CURLOPT_PROXY, "")
        case .environment:
            break
        case .url(let proxy):
            imdswatch_curl_setopt_string(pointer, CURLOPT_PROXY, proxy)
        }
        if let userAgent = options.userAgent {
            imdswatch_curl_setopt_string(pointer, CURLOPT_USERAGENT, userAgent)
        }

        let context = Unmanaged.passUnretained(response).toOpaque()
        imdswatch_curl_setopt_pointer(pointer, CURLOPT_WRITEDATA, context)
        imdswatch_curl_setopt_write_function(pointer) { data, size, count, context in
            guard let context else { return 0 }
            let response = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            return response.appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        imdswatch_curl_setopt_pointer(pointer, CURLOPT_HEADERDATA, context)
        imdswatch_curl_setopt_header_function(pointer) { data, size, count, context in
            guard let context else { return 0 }
            let response = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            response.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
    }

    private static func makeHeaderList(_ headers: [HTTPHeader]) -> UnsafeMutablePointer<curl_slist>? {
        var fields = headers.map { "\($0.name): \($0.value)" }
        // libcurl adds these unless told not to; neither belongs on our requests.
        if !headers.contains(where: { $0.name.lowercased() == "content-type" }) { fields.append("Content-Type:") }
        fields.append("Expect:")
        var list: UnsafeMutablePointer<curl_slist>?
        for field in fields {
            list = curl_slist_append(list, field)
        }
        return list
    }

    private func error(for code: CURLcode, request: HTTPRequest) -> HTTPError {
        var osErrno = 0
        imdswatch_curl_getinfo_long(pointer, CURLINFO_OS_ERRNO, &osErrno)
        // Pre-transfer time is set once the request is about to be sent, on a new or a reused connection; 0 means
        // the connection was never established. (Connect time is 0 on reused connections, so it cannot tell.)
        var pretransferTime = 0.0
        imdswatch_curl_getinfo_double(pointer, CURLINFO_PRETRANSFER_TIME, &pretransferTime)
        let kind: HTTPError.Code
        switch code {
        case CURLE_COULDNT_CONNECT:
            // 111 is ECONNREFUSED; 101/113 are ENETUNREACH/EHOSTUNREACH.
            kind =
                osErrno == 111
                ? .connectionRefused : (osErrno == 101 || osErrno == 113 ? .unreachable : .connectionRefused)
        case CURLE_OPERATION_TIMEDOUT:
            kind = pretransferTime == 0 ? .connectTimedOut : .timedOut
        case CURLE_FILESIZE_EXCEEDED:
            kind = .responseTooLarge
        case CURLE_WRITE_ERROR where response.exceededLimit:
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
        let detail = String(cString: errorBuffer)
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let message = kind == .responseTooLarge ? "response larger than \(request.maxResponseBytes) bytes" : text
        return HTTPError(code: kind, curlCode: Int32(code.rawValue), detail: message, url: request.url)
    }
}

/// A non-empty address for COPYPOSTFIELDS when the body is empty (libcurl reads zero bytes from it).
nonisolated(unsafe) private let emptyBody = UnsafeMutablePointer<CChar>.allocate(capacity: 1)

/// Collects one response's headers and body inside libcurl's callbacks.
final class ResponseAccumulator {
    private(set) var limit = 0
    private(set) var body: [UInt8] = []
    private(set) var headers: [HTTPHeader] = []
    private(set) var exceededLimit = false
    /// Lower-cased ASCII names of the header fields to keep; `nil` keeps all.
    private var kept: [[UInt8]]?
    private var keptNames: [String]?

    /// Forgets the previous response.
    /// - Parameters:
    ///   - limit: The body size cap.
    ///   - names: The header fields to keep (`nil`: all).
    func reset(limit: Int, keeping names: [String]?) {
        self.limit = limit
        body = []
        headers = []
        exceededLimit = false
        if names != keptNames {
            keptNames = names
            kept = names.map { $0.map { Array($0.lowercased().utf8) } }
        }
    }

    private func isKept(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let kept else { return true }
        return kept.contains { wanted in
            wanted.count == name.count
                && zip(wanted, name).allSatisfy { $0 == ($1 | (($1 >= 0x41 && $1 <= 0x5A) ? 0x20 : 0)) }
        }
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
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
            isKept(UnsafeRawBufferPointer(rebasing: bytes[..<colon]))
        else { return }
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

extension Duration {
    /// Whole milliseconds, at least 1 (libcurl reads 0 as "no timeout").
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}
