import Events
import Foundation
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Testing

@testable import Hooks

/// A hook's processes are ended at its timeout (and when its run is cancelled) even when they left its process group
/// with `setsid`: found as its descendants while the hook runs, and as children this process adopted (it is a child
/// subreaper) once their parent is gone.
@Suite("Hook process tree", .timeLimit(.minutes(1)))
struct HookProcessTreeTests {
    /// The pid a hook wrote to `name` in the hooks directory.
    private func pid(_ dir: HooksDirectory, _ name: String) throws -> Int32 {
        let text = try #require(dir.read(name))
        return try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func theTimeoutEndsAChildThatLeftWithSetsidWhileTheHookRuns() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // The escaped child ignores SIGTERM: only the SIGKILL after the grace period ends it.
        try dir.script(
            "10-escape",
            """
            setsid sh -c 'trap "" TERM; exec sleep 300' </dev/null >/dev/null 2>&1 &
            echo $! > \(dir.path)/escaped
            sleep 300
            """)
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(1), killGrace: .milliseconds(300))

        let results = await runner.runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

        #expect(results.first?.timedOut == true)
        let escaped = try pid(dir, "escaped")
        defer { kill(escaped, SIGKILL) }
        #expect(
            await eventually(timeout: .seconds(30)) { !isAlive(escaped) },
            "the setsid child \(escaped) outlived the timeout")
    }

    @Test func aSetsidChildWhoseHookExitedIsEndedAtTheHookTimeout() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // The hook exits at once: its escaped child is re-parented (to this process, the subreaper) and must still be
        // ended when the hook's timeout is up, as a `cmd &` left in the hook's group is.
        try dir.script(
            "10-escape-and-exit",
            """
            setsid sh -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
            echo $! > \(dir.path)/escaped
            exit 0
            """)
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(2), killGrace: .milliseconds(300))

        // What the hook dispatcher's run() does for the daemon: a child task sweeps the leftovers.
        try await withThrowingTaskGroup(of: Void.self) { sweeper in
            sweeper.addTask { await runner.sweepLeftovers() }
            defer { sweeper.cancelAll() }
            let results = await runner.runSequence(
                dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))

            #expect(results.map(\.termination) == [.exited(0)])
            let escaped = try pid(dir, "escaped")
            defer { kill(escaped, SIGKILL) }
            // Adopted by this process (unless already ended: the tests of this target share the process and its runs).
            let parent = HookFileSystem.processEntry(escaped)?.parent
            #expect(parent == nil || parent == getpid(), "re-parented to \(parent ?? 0)")
            #expect(
                await eventually(timeout: .seconds(30)) { !isAlive(escaped) },
                "the setsid child \(escaped) outlived the timeout")
            // It is reaped, not left a zombie of this process.
            #expect(
                await eventually(timeout: .seconds(30)) { !FileManager.default.fileExists(atPath: "/proc/\(escaped)") })
        }
    }

    /// The order a loaded machine can give at shutdown: a hook has ended and queued its leftovers' sweep, and the
    /// sweeper is cancelled before it ran again to take it. The leftover is ended all the same.
    @Test func aSweepQueuedJustBeforeTheShutdownIsEndedByIt() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script(
            "10-escape",
            """
            setsid sh -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
            echo $! > \(dir.path)/escaped
            exit 0
            """)
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300))
        // No sweeper runs meanwhile: the sweep stays queued.
        let results = await runner.runSequence(
            dir.catalog.plan(for: .tagsChanged).hooks, for: syntheticEvent(.tagsChanged))
        #expect(results.first?.termination == .exited(0))
        let escaped = try pid(dir, "escaped")
        defer { kill(escaped, SIGKILL) }
        // The sweeper starts cancelled (a task added to a cancelled group): it never looks while running.
        await withDiscardingTaskGroup { group in
            group.cancelAll()
            group.addTask { await runner.sweepLeftovers() }
        }
        #expect(!isAlive(escaped), "the leftover \(escaped) outlived the shutdown")
    }

    @Test func cancellingTheRunEndsTheHookTreeSetsidChildrenIncluded() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let hook = Hook(
            name: "10-tree",
            path: try dir.script(
                "10-tree",
                """
                setsid sh -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
                echo $! > \(dir.path)/escaped
                sleep 300 &
                echo $! > \(dir.path)/grouped
                touch \(dir.path)/started
                wait
                """), relativePath: "10-tree")
        let (logger, _) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300))

        let task = Task { await runner.run(hook, payload: [], environment: [:]) }
        #expect(await eventually(timeout: .seconds(30)) { dir.exists("started") })
        task.cancel()
        let result = await task.value

        #expect(result.stoppedAtShutdown)
        let escaped = try pid(dir, "escaped")
        let grouped = try pid(dir, "grouped")
        defer {
            kill(escaped, SIGKILL)
            kill(grouped, SIGKILL)
        }
        #expect(await eventually(timeout: .seconds(30)) { !isAlive(escaped) && !isAlive(grouped) })
    }

    @Test func stdinIsASealedInMemoryFileHoldingThePayloadBeforeTheHookStarts() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // Not a pipe written after the spawn: the whole payload is there when the hook starts, whatever happens to
        // the daemon then (the end-to-end test kills it right after the spawn).
        let hook = Hook(
            name: "10-stdin",
            path: try dir.script(
                "10-stdin",
                """
                readlink /proc/self/fd/0 > \(dir.path)/kind
                cat > \(dir.path)/stdin
                { printf x >> /proc/self/fd/0; } 2>/dev/null && echo writable > \(dir.path)/writable
                exit 0
                """), relativePath: "10-stdin")
        let (logger, _) = memoryLogger()
        let payload = Array("{\"type\":\"spot-interruption\"}".utf8)

        let result = await testRunner(logger: logger).run(hook, payload: payload, environment: [:])

        #expect(result.termination == .exited(0))
        #expect(dir.read("kind")?.hasPrefix("/memfd:imdswatch-payload") == true, "stdin is \(dir.read("kind") ?? "?")")
        #expect(dir.read("stdin") == String(decoding: payload, as: UTF8.self))
        #expect(!dir.exists("writable"), "the payload is sealed: a hook cannot change it")
    }
}
