import Durability
import Events
import Foundation
import HTTP
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Synchronization

@testable import Webhooks

/// A spot interruption with realistic fields.
func sampleEvent(
    id: String = "spot-i-0abc-2026-11-24T12:00:00Z", type: EventType = .spotInterruption, synthetic: Bool = false
) -> Event {
    Event.fixture(
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

/// Runs `dispatcher` in a task until `body` returns, then shuts it down and waits for it.
func withRunning<T>(_ dispatcher: WebhookDispatcher, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await dispatcher.run() }
    defer { dispatcher.shutdown() }
    let result = try await body()
    dispatcher.shutdown()
    try await task.value
    return result
}
