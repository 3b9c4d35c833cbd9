import Foundation
import HTTP
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real webhook receiver on 127.0.0.1 for tests: `Tests/support/webhook_receiver.py` run by python3, with
/// scripted responses per path and a record of every request. Signatures are checked by Python's `hmac`.
package final class WebhookReceiver: @unchecked Sendable {
    /// One response to play back.
    package struct Response: Sendable {
        package var status: Int
        package var delaySeconds: Double
        package var headers: [String: String]
        package var body: String

        /// Creates a response.
        package init(status: Int, delaySeconds: Double = 0, headers: [String: String] = [:], body: String = "") {
            self.status = status
            self.delaySeconds = delaySeconds
            self.headers = headers
            self.body = body
        }
    }

    /// One request the receiver got.
    package struct Request: Sendable, Decodable {
        package var path: String
        package var headers: [[String]]
        package var bodyBase64: String
        /// Arrival, in seconds since the Unix epoch.
        package var time: Double
        /// Python's verdict on `X-Imdswatch-Signature-256`; `nil` without a secret or a header.
        package var signatureValid: Bool?
        /// The status it was answered with.
        package var status: Int

        enum CodingKeys: String, CodingKey {
            case path, headers
            case bodyBase64 = "body_b64"
            case time
            case signatureValid = "signature_valid"
            case status
        }

        /// The body bytes.
        package var body: [UInt8] { [UInt8](Data(base64Encoded: bodyBase64) ?? Data()) }
        /// The body as text.
        package var bodyText: String { String(decoding: body, as: UTF8.self) }

        /// The first header named `name`, compared without regard to case.
        package func header(_ name: String) -> String? {
            headers.first { $0.first?.lowercased() == name.lowercased() }.flatMap { $0.count > 1 ? $0[1] : nil }
        }
    }

    /// The port it listens on.
    package let port: Int
    private let process: Process
    private let control: CurlTransport
    private let stopped = Mutex(false)

    /// `http://127.0.0.1:PORT` followed by `path`.
    package func url(_ path: String = "/hook") -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// Starts a receiver.
    /// - Parameters:
    ///   - port: A port to listen on; 0 picks a free one.
    ///   - secretFile: The HMAC key file to verify signatures with.
    package static func start(port: Int = 0, secretFile: String? = nil) throws -> WebhookReceiver {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("support/webhook_receiver.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", script, "--port", String(port)]
        if let secretFile { arguments += ["--secret-file", secretFile] }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let actual = Int(text.dropFirst(5)) else {
            kill(process.processIdentifier, SIGKILL)
            throw ReceiverError(message: "webhook receiver did not start: \(text)")
        }
        return WebhookReceiver(port: actual, process: process)
    }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
        self.control = CurlTransport(options: CurlTransport.Options(proxy: .never))
    }

    deinit {
        stop()
    }

    /// Queues responses for `path`; requests beyond them get 200.
    package func script(_ responses: [Response], path: String = "/hook") async throws {
        let items: [[String: Any]] = responses.map {
            ["status": $0.status, "delay": $0.delaySeconds, "headers": $0.headers, "body": $0.body]
        }
        let body = try JSONSerialization.data(withJSONObject: ["path": path, "responses": items])
        let response = try await control.send(
            HTTPRequest(method: .post, url: url("/_control/script"), body: [UInt8](body)))
        guard response.status == 200 else { throw ReceiverError(message: "script failed: \(response.status)") }
    }

    /// Every request received so far, in arrival order of their completion.
    package func requests(path: String? = nil) async throws -> [Request] {
        let response = try await control.send(HTTPRequest(method: .get, url: url("/_control/requests")))
        let all = try JSONDecoder().decode([Request].self, from: Data(response.body))
        return path.map { wanted in all.filter { $0.path == wanted } } ?? all
    }

    /// Waits until at least `count` requests reached `path`, polling every 50 ms.
    /// - Throws: ``ReceiverError`` after `timeout`.
    package func waitForRequests(_ count: Int, path: String = "/hook", timeout: Duration = .seconds(10)) async throws
        -> [Request]
    {
        let received = try await waitForValue(timeout: timeout, every: .milliseconds(50)) {
            () async throws -> [Request]? in
            let received = try await requests(path: path)
            return received.count >= count ? received : nil
        }
        if let received { return received }
        throw ReceiverError(
            message: "expected \(count) requests on \(path), got \(try await requests(path: path).count)")
    }

    /// Stops the receiver process with SIGKILL (the child may inherit a mask that blocks SIGTERM) and waits up to
    /// 2 s for it to be gone, so that its port is free.
    package func stop() {
        guard
            !stopped.withLock({
                let was = $0
                $0 = true
                return was
            })
        else { return }
        let pid = process.processIdentifier
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        for _ in 0..<200 {
            // Foundation may reap the child first: then waitpid fails with ECHILD and the process is gone too.
            if waitpid(pid, nil, WNOHANG) != 0 { return }
            usleep(10_000)
        }
    }

    /// A receiver failure.
    package struct ReceiverError: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }
}
