/// Polls `produce` (in real time, every `interval`) until it returns a value or `timeout` passes.
///
/// For a test that waits for another process or task to get somewhere. The timeout only ends a hung test: it is
/// never a speed check, so make it generous; the test asserts what it waited for, not how long that took.
/// - Parameters:
///   - timeout: When to give up.
///   - interval: The pause between two tries.
///   - produce: Returns the awaited value, or `nil` while it is not there yet.
/// - Returns: The first value `produce` returned, or `nil` when none came in time (after one last try).
/// - Throws: What `produce` throws (it is not retried).
package func waitForValue<Value>(
    timeout: Duration = .seconds(120), every interval: Duration = .milliseconds(20),
    _ produce: () async throws -> Value?
) async rethrows -> Value? {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if let value = try await produce() { return value }
        try? await Task.sleep(for: interval)
    }
    return try await produce()
}

/// Polls `condition` (in real time, every `interval`) until it holds or `timeout` passes.
///
/// The timeout only ends a hung test (see ``waitForValue(timeout:every:_:)``).
/// - Parameters:
///   - timeout: When to give up.
///   - interval: The pause between two checks.
///   - condition: What to wait for.
/// - Returns: Whether `condition` held in time (checked once more at the deadline).
/// - Throws: What `condition` throws (it is not retried).
package func eventually(
    timeout: Duration = .seconds(120), every interval: Duration = .milliseconds(20),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await waitForValue(timeout: timeout, every: interval) { try await condition() ? true : nil } ?? false
}

/// Checks `condition` (every `interval`) until it holds, with no deadline of its own: for in-process state that
/// offers no signal to wait on. Only the test's `.timeLimit` bounds it (its cancellation ends the wait), so a loaded
/// machine makes the test slower, never wrong.
/// - Parameters:
///   - interval: The pause between two checks.
///   - condition: What to wait for.
/// - Returns: True once `condition` holds; false when the task was cancelled first.
/// - Throws: What `condition` throws (it is not retried).
package func until(
    every interval: Duration = .milliseconds(5), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    while !Task.isCancelled {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return false
}
