import Events
import Foundation
import IMDSWatchTestKit
import Logging
import Synchronization
import Testing

@testable import Hooks

/// The runner's timeout and kill grace run on its injected clock: on a manual clock nothing is ended before the test
/// moves time, and everything is ended once it has.
@Suite("Hook runner clock", .timeLimit(.minutes(1)))
struct HookRunnerClockTests {
    final class Finished: Sendable {
        let result = Mutex<HookResult?>(nil)
        /// Fired once ``result`` is set.
        let ended = Latch()
    }

    @Test func theTimeoutAndTheKillGraceRunOnTheInjectedClock() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // Survives SIGTERM (the trap notes it, the loop goes on): only SIGKILL ends it.
        try dir.script(
            "10-stubborn",
            """
            trap 'echo term >> \(dir.path)/log' TERM
            echo $$ > \(dir.path)/pid
            while :; do sleep 0.05; done
            """)
        let (logger, _) = memoryLogger()
        let clock = ManualClock()
        let runner = testRunner(logger: logger, timeout: .seconds(90), killGrace: .milliseconds(200), clock: clock)
        let hook = try #require(dir.catalog.plan(for: .tagsChanged).hooks.first)
        let finished = Finished()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let result = await runner.run(hook, payload: [], environment: [:])
                finished.result.withLock { $0 = result }
                finished.ended.fire()
            }
            let pid = try #require(await dir.pid(in: "pid"))
            defer { kill(pid, SIGKILL) }

            // The timeout: the watchdog sleeps 90 s on the clock, and nothing is signalled before they have passed.
            #expect(await clock.waitForSleepers(1))
            clock.advance(by: .seconds(89))
            #expect(isAlive(pid))
            #expect(dir.read("log") == nil, "SIGTERM before the timeout was up on the clock")
            clock.advance(by: .seconds(1))
            #expect(
                await eventually { dir.read("log")?.contains("term") == true }, "no SIGTERM once the timeout was up")

            // The kill grace: SIGKILL only once 200 ms more have passed on the clock. The ending sleeps in steps of at
            // most 50 ms; each step is let go only when it sleeps, so `moved` is the clock's time since the SIGTERM.
            // The run either sleeps again or ends: whichever comes first is waited for, in order, not in time.
            var moved = Duration.zero
            var aliveAtTheLastStep: Bool?
            while !Task.isCancelled, finished.result.withLock({ $0 == nil }) {
                await firstOf({ await clock.waitForSleepers(1) }, { await finished.ended.wait() })
                guard clock.sleeperCount > 0, !finished.ended.isFired else { continue }
                if moved + .milliseconds(50) >= .milliseconds(200), aliveAtTheLastStep == nil {
                    aliveAtTheLastStep = isAlive(pid)
                }
                clock.advance(by: .milliseconds(50))
                moved += .milliseconds(50)
            }
            // Cancelled (the time limit): end the hook and let the clock run, so that a failing run still ends
            // instead of hanging the suite.
            if finished.result.withLock({ $0 == nil }) {
                kill(pid, SIGKILL)
                while finished.result.withLock({ $0 == nil }) {
                    clock.advance(by: .seconds(1))
                    await Task.yield()
                }
            }
            #expect(aliveAtTheLastStep == true, "SIGKILL before the kill grace was over on the clock")
            #expect(moved >= .milliseconds(200), "the run ended after \(moved) of kill grace on the clock")
            try await group.waitForAll()
            #expect(!isAlive(pid))
        }
        let result = try #require(finished.result.withLock { $0 })
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(clock.sleptDurations.first == .seconds(90))
    }
}
