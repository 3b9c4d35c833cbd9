import Events
import Foundation
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Retry
import Testing

@testable import Hooks

@Suite("Hook execution", .timeLimit(.minutes(1)))
struct HookRunnerTests {
    @Test func hookSeesEnvironmentEventFileAndPayloadOnStdin() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script(
            "10-record",
            """
            out="\(dir.path)/out"
            mkdir -p "$out"
            cat > "$out/stdin"
            env | grep '^IMDSWATCH_' | sort > "$out/env"
            cp "$IMDSWATCH_EVENT_FILE" "$out/event-file"
            stat -c %a "$IMDSWATCH_EVENT_FILE" > "$out/event-file-mode"
            echo "$IMDSWATCH_EVENT_FILE" > "$out/event-file-path"
            """)
        let event = syntheticEvent(.spotInterruption)
        let (logger, _) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .spotInterruption).hooks, for: event)

        #expect(results.map(\.termination) == [.exited(0)])
        let payload = String(decoding: event.payloadBytes(), as: UTF8.self)
        #expect(dir.read("out/stdin") == payload)
        #expect(dir.read("out/event-file") == payload)
        #expect(dir.read("out/event-file-mode") == "600\n")
        let env = try #require(dir.read("out/env")).split(separator: "\n").map(String.init)
        let eventFile = try #require(dir.read("out/event-file-path")).trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = try #require(event.deadline)
        #expect(
            env == [
                "IMDSWATCH_DEADLINE=\(deadline)",
                "IMDSWATCH_DRY_RUN=0",
                "IMDSWATCH_EVENT_FILE=\(eventFile)",
                "IMDSWATCH_EVENT_ID=\(event.id)",
                "IMDSWATCH_EVENT_TYPE=spot-interruption",
                "IMDSWATCH_INSTANCE_ID=i-0123456789abcdef0",
            ])
        #expect(!FileManager.default.fileExists(atPath: eventFile), "the event file is removed after the last hook")
    }

    /// A hook held open for writing cannot be executed (ETXTBSY) until the writer closes it; the runner tries the
    /// start again instead of failing the hook (a hook being saved, or a forked child still holding the descriptor).
    /// The writer closes only once a retry has been logged, so the order is checked, not the time: the retries
    /// (every 20 ms for up to 60 s here) only bound a hung test.
    @Test func aHookBusyBeingWrittenRunsOnceTheWriterCloses() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-busy", "echo ran > \(dir.path)/ran")
        let hooks = dir.catalog.plan(for: .spotInterruption).hooks
        let writer = open(hooks[0].path, O_WRONLY | O_CLOEXEC)
        #expect(writer >= 0)
        let (logger, handler) = memoryLogger()
        let closer = Task {
            _ = await eventually { handler.entries.contains { $0.text.contains("is open for writing elsewhere") } }
            close(writer)
        }
        // 20 ms apart, 3000 times: until the writer closes it, however long the machine takes to get there.
        let every20ms = RetryPolicy(
            maxAttempts: 3001, baseDelay: .milliseconds(20), maxDelay: .milliseconds(20), jitter: RetryPolicy.noJitter)
        let runner = testRunner(logger: logger, busyRetry: every20ms)

        let results = await runner.runSequence(hooks, for: syntheticEvent(.spotInterruption))
        await closer.value
        #expect(results.map(\.termination) == [.exited(0)])
        #expect(dir.read("ran") == "ran\n")
        #expect(
            handler.entries.contains { $0.text.contains("hook 10-busy is open for writing elsewhere (text file busy)") }
        )
    }

    @Test func deadlineIsAbsentWhenTheEventHasNone() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-deadline", "echo \"${IMDSWATCH_DEADLINE-unset}\" > \(dir.path)/deadline")
        let (logger, _) = memoryLogger()

        _ = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged),
            extraEnvironment: ["IMDSWATCH_DEADLINE": "inherited-and-stale"]
        )
        #expect(dir.read("deadline") == "unset\n")
    }

    @Test func outputIsLoggedLineByLineWithTheHookName() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-talk", "echo out one; echo err one >&2; printf 'no newline'; exit 3")
        let (logger, handler) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        #expect(results.first?.termination == .exited(3))
        #expect(results.first?.exitStatus == 3)
        let hookEntries = handler.entries.filter { $0.field(LogField.hook) == "10-talk" }
        #expect(hookEntries.contains { $0.level == .info && $0.text == "out one" })
        #expect(hookEntries.contains { $0.level == .warning && $0.text == "err one" })
        #expect(hookEntries.contains { $0.level == .info && $0.text == "no newline" })
        let final = try #require(hookEntries.last)
        #expect(final.level == .error)
        #expect(final.field(LogField.hookExitStatus) == "3")
        #expect(final.field(LogField.eventType) == "tags-changed")
        #expect(final.text.contains("10-talk"))
    }

    @Test func timedOutHookIsKilledWithItsGrandchild() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // The grandchild ignores SIGTERM, so only the SIGKILL to the whole group ends it.
        try dir.script(
            "10-hang",
            """
            (trap '' TERM; exec sleep 300) &
            echo $! > \(dir.path)/grandchild
            sleep 300
            """)
        let (logger, handler) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(1), killGrace: .milliseconds(500))

        let results = await runner.runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        // Ended by the timeout's SIGTERM, not by its own end 300 s later (that would be exit status 0).
        let result = try #require(results.first)
        #expect(result.timedOut)
        #expect(result.termination == .signaled(15))
        #expect(!result.succeeded)
        let pidText = try #require(dir.read("grandchild"))
        let grandchild = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await eventually { !isAlive(grandchild) }, "grandchild \(grandchild) still alive")
        #expect(handler.entries.contains { $0.level == .error && $0.text.contains("timing out") })
    }

    @Test func hookIgnoringSigtermIsKilled() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-stubborn", "trap '' TERM; sleep 300 & wait; sleep 300 & wait")
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .milliseconds(500), killGrace: .milliseconds(500))

        let results = await runner.runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        #expect(results.first?.termination == .signaled(9))
        #expect(results.first?.timedOut == true)
    }

    @Test func failingSignaledAndStdinIgnoringHooksDoNotStopTheNextHook() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-never-reads-stdin", "exit 0")
        try dir.script("20-closes-stdin-and-sleeps", "exec 0<&-; sleep 0.3")
        try dir.script("30-fails", "exit 7")
        try dir.script("40-killed-by-signal", "kill -KILL $$")
        try dir.script("50-segfaults", "kill -SEGV $$")
        try dir.script("60-last", "touch \(dir.path)/last-ran")
        try dir.write("70-not-a-script", "\u{7F}ELF garbage", mode: 0o755)
        let (logger, _) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        #expect(
            results.map(\.hook) == [
                "10-never-reads-stdin", "20-closes-stdin-and-sleeps", "30-fails", "40-killed-by-signal", "50-segfaults",
                "60-last", "70-not-a-script",
            ])
        #expect(results[0].termination == .exited(0))
        #expect(results[1].termination == .exited(0))
        #expect(results[2].termination == .exited(7))
        #expect(results[3].termination == .signaled(9))
        #expect(results[3].exitStatus == 137)
        #expect(results[4].termination == .signaled(11))
        #expect(results[5].termination == .exited(0))
        #expect(!results[6].succeeded)
        #expect(dir.exists("last-ran"))
    }

    @Test func largePayloadToHookThatNeverReadsIt() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let hook = Hook(name: "10-sleepy", path: try dir.script("10-sleepy", "sleep 0.5"), relativePath: "10-sleepy")
        let (logger, _) = memoryLogger()

        // 4 MiB does not fit a pipe: the write must give up when the hook exits, not block or kill us.
        let result = await testRunner(logger: logger).run(
            hook, payload: Array(repeating: 0x61, count: 4 << 20), environment: [:])

        #expect(result.termination == .exited(0))
    }

    @Test func tenMegabytesOfOutputAreStreamedAndBounded() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-one-huge-line", "head -c 10000000 /dev/zero | tr '\\\\0' x; echo; echo after")
        try dir.script("20-many-lines", "yes 'a line of output' | head -n 500000")
        try dir.script("30-next", "echo still here")
        let (logger, handler) = memoryLogger()
        let runner = testRunner(logger: logger, maxLoggedBytes: 64 * 1024)

        let results = await runner.runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        #expect(results.map(\.termination) == [.exited(0), .exited(0), .exited(0)])
        let huge = handler.entries.filter { $0.field(LogField.hook) == "10-one-huge-line" && $0.level == .info }
        let first = try #require(huge.first)
        #expect(first.text.utf8.count < 4200, "a long line is cut")
        #expect(first.text.contains("more bytes"))
        let many = handler.entries.filter { $0.field(LogField.hook) == "20-many-lines" && $0.level == .info }
        #expect(many.count < 64 * 1024 / 17 + 10, "logged output is bounded: \(many.count) lines")
        #expect(
            handler.entries.contains { $0.field(LogField.hook) == "20-many-lines" && $0.text.contains("not logged") })
        #expect(handler.entries.contains { $0.field(LogField.hook) == "30-next" && $0.text == "still here" })
    }

    @Test func outputLineSplitterBoundsMemory() {
        var lines = HookOutputLines(maxLineBytes: 4, maxTotalBytes: 12)
        #expect(
            lines.append(Array("ab\ncdefgh\nij".utf8)) == [
                .init(text: "ab", truncatedBytes: 0), .init(text: "cdef", truncatedBytes: 2),
            ])
        #expect(lines.append(Array("\nklmnop\nq".utf8)) == [.init(text: "ij", truncatedBytes: 0)])
        #expect(lines.suppressedBytes == 8)
        #expect(lines.finish() == nil)
    }

    @Test func cancellationEndsTheRunningHook() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let hook = Hook(
            name: "10-hang", path: try dir.script("10-hang", "touch \(dir.path)/started; exec sleep 300"),
            relativePath: "10-hang")
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300))

        let task = Task { await runner.run(hook, payload: [], environment: [:]) }
        #expect(await eventually { dir.exists("started") })
        task.cancel()
        let result = await task.value

        // Ended by a signal, not by its own end 300 s later (that would be exit status 0).
        #expect(!result.succeeded)
        #expect(result.termination == .signaled(15))
        #expect(result.stoppedAtShutdown)
        #expect(!result.timedOut)
    }
}
