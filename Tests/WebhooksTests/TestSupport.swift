import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Synchronization
@testable import Webhooks

/// A spot interruption with realistic fields.
func sampleEvent(id: String = "spot-i-0abc-2026-11-24T12:00:00Z", type: EventType = .spotInterruption, synthetic: Bool = false) -> Event {
    Event(
        id: id,
        type: type,
        detectedAtMilliseconds: 1_795_003_081_532,
        instance: InstanceInfo(
            instanceID: "i-0abc123", instanceType: "m5.large", region: "eu-west-1",
            availabilityZone: "eu-west-1b", accountID: "123456789012"
        ),
        data: ["action": "terminate", "time": "2026-11-24T12:00:00Z"],
        synthetic: synthetic
    )
}

/// A fresh temporary directory.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "imdswatch-webhooks-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A logger whose entries tests can read.
func capturingLogger() -> (Logger, InMemoryLogHandler) {
    let handler = InMemoryLogHandler()
    var logger = Logger(label: "test", factory: { _ in handler })
    logger.logLevel = .debug
    return (logger, handler)
}

/// Every logged line with its metadata rendered, for "never appears" checks.
func renderedLines(_ handler: InMemoryLogHandler) -> [String] {
    handler.entries.map { "\($0.level) \($0.message) \($0.metadata)" }
}

/// Virtual wall-clock time: sleeping jumps forward at once.
final class VirtualClock: WebhookClock {
    private let current: Mutex<Int64>

    init(start: Int64 = 1_795_003_081_532) {
        current = Mutex(start)
    }

    func now() -> Int64 { current.withLock { $0 } }

    func sleep(untilMilliseconds deadline: Int64) async throws {
        try Task.checkCancellation()
        current.withLock { $0 = max($0, deadline) }
        await Task.yield()
    }
}

/// A transport that answers from a script and records each request with the virtual time it arrived.
final class FakeTransport: HTTPTransport {
    enum Answer: Sendable {
        case status(Int, [HTTPHeader] = [])
        case error(HTTPError.Code)
    }

    private let state: Mutex<(answers: [Answer], requests: [(HTTPRequest, Int64)])>
    private let clock: any WebhookClock

    init(clock: any WebhookClock, answers: [Answer]) {
        self.clock = clock
        state = Mutex((answers, []))
    }

    var requests: [(request: HTTPRequest, at: Int64)] {
        state.withLock { $0.requests.map { (request: $0.0, at: $0.1) } }
    }

    func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let answer: Answer = state.withLock { state in
            state.requests.append((request, clock.now()))
            return state.answers.isEmpty ? .status(200) : state.answers.removeFirst()
        }
        switch answer {
        case .status(let status, let headers):
            return HTTPResponse(status: status, headers: headers)
        case .error(let code):
            throw HTTPError(code: code, detail: "scripted", url: request.url)
        }
    }
}

/// Runs `dispatcher` in a task until `body` returns, then shuts it down and waits for it.
func withRunning<T>(_ dispatcher: WebhookDispatcher, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await dispatcher.run() }
    defer { dispatcher.shutdown() }
    let result = try await body()
    dispatcher.shutdown()
    try await task.value
    return result
}

/// Polls `condition` every 20 ms (real time) until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
