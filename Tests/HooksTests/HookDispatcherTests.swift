import Events
import Foundation
import Hooks
import IMDSWatchTestKit
import InMemoryLogging
import Logging
import Testing

@Suite("Hook dispatch", .serialized, .timeLimit(.minutes(1)))
struct HookDispatcherTests {
    @Test func spotInterruptionDoesNotWaitBehindAHangingTagsChangedHook() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("tags-changed.d/10-hang", "touch \(dir.path)/hang-started-$$; exec sleep 300")
        try dir.script("spot-interruption.d/10-first", "touch \(dir.path)/spot-ran")
        let (logger, handler) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300))
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: runner,
            configuration: .init(maxConcurrentEvents: 1, shutdownGrace: .milliseconds(200)), logger: logger
        )

        try await withRunning(dispatcher) { shutdown in
            await dispatcher.deliver(syntheticEvent(.tagsChanged))
            #expect(
                await eventually {
                    (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.contains {
                        $0.hasPrefix("hang-started")
                    } == true
                })
            // The bound (1) is reached by the hanging sequence; a second tags-changed waits, the spot one must not.
            await dispatcher.deliver(syntheticEvent(.tagsChanged))
            await dispatcher.deliver(syntheticEvent(.spotInterruption))

            // The hanging hook sleeps 300 s: the spot hook can only run now if it does not wait behind it.
            #expect(await eventually(timeout: .seconds(50)) { dir.exists("spot-ran") })
            #expect(await until { await dispatcher.runningHookCount == 1 })
            #expect(await until { await dispatcher.pendingEventCount == 2 })

            let marker = try #require(
                try FileManager.default.contentsOfDirectory(atPath: dir.path).first { $0.hasPrefix("hang-started-") })
            let hanging = try #require(Int32(marker.dropFirst("hang-started-".count)))
            #expect(isAlive(hanging))
            await shutdown()
            #expect(handler.entries.contains { $0.level == .error && $0.text.hasPrefix("hooks still running after") })
            // Shutdown ended the hanging hook instead of waiting out its 300 s, and returned only once it was gone.
            #expect(!isAlive(hanging))
            #expect(await dispatcher.pendingEventCount == 0)
            #expect(await dispatcher.runningHookCount == 0)
        }
    }

    @Test func spotSequencesHaveABoundOfTheirOwnAndStillDoNotWaitBehindOtherEvents() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let log = "\(dir.path)/log"
        try dir.script("tags-changed.d/10-hang", "touch \(dir.path)/hang-started; exec sleep 300")
        // Each spot hook holds its slot until the test releases it (at most 50 s).
        try dir.script(
            "spot-interruption.d/10-hold",
            """
            echo "start $IMDSWATCH_EVENT_ID" >> \(log)
            i=0
            until [ -e \(dir.path)/release ]; do sleep 0.02; i=$((i + 1)); [ $i -gt 2500 ] && exit 9; done
            echo "end $IMDSWATCH_EVENT_ID" >> \(log)
            """)
        let (logger, handler) = memoryLogger()
        let runner = testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300))
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: runner,
            configuration: .init(maxConcurrentEvents: 1, maxConcurrentSpotEvents: 3, shutdownGrace: .milliseconds(100)),
            logger: logger
        )

        try await withRunning(dispatcher) { _ in
            // The general bound (1) is taken by a hanging tags-changed sequence: spot sequences still start.
            await dispatcher.deliver(syntheticEvent(.tagsChanged))
            #expect(await eventually { dir.exists("hang-started") })
            let ids = (1...5).map { "spot-\($0)" }
            for id in ids {
                var event = syntheticEvent(.spotInterruption)
                event.id = id
                await dispatcher.deliver(event)
            }

            // Three run, two wait (behind spot sequences only).
            #expect(await until { await dispatcher.runningHookCount == 4 })
            #expect(await dispatcher.pendingEventCount == 6)
            #expect(
                handler.entries.contains {
                    $0.text.contains("3 spot sequences already running hooks: this one waits (2 waiting)")
                })
            #expect(
                await eventually { (dir.read("log") ?? "").split(separator: "\n").count == 3 },
                "three spot hooks started")
            _ = FileManager.default.createFile(atPath: "\(dir.path)/release", contents: nil)
            #expect(await until { await dispatcher.pendingEventCount == 1 })

            // Order, not time: the fourth and fifth start only after one of the first three ended.
            let lines = try #require(dir.read("log")).split(separator: "\n").map(String.init)
            #expect(lines.filter { $0.hasPrefix("start") }.count == 5)
            #expect(Set(lines.prefix(3)) == Set(ids.prefix(3).map { "start \($0)" }), "\(lines)")
            #expect(lines[3].hasPrefix("end"), "the fourth spot sequence started before a slot was free: \(lines)")
        }
    }

    @Test func aGracefulShutdownGivesRunningHooksTheirGraceOnTheInjectedClock() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-hang", "echo $$ > \(dir.path)/hang-pid; exec sleep 300")
        let (logger, handler) = memoryLogger()
        let clock = ManualClock()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog,
            runner: testRunner(logger: logger, timeout: .seconds(300), killGrace: .milliseconds(300)),
            configuration: .init(shutdownGrace: .seconds(100)), logger: logger, clock: clock
        )
        try await withRunning(dispatcher) { shutdown in
            await dispatcher.deliver(syntheticEvent(.rebalanceRecommendation))
            let pid = try #require(await dir.pid(in: "hang-pid"))
            shutdown.trigger()
            // The grace runs on the dispatcher's clock: until it has passed there, the hook is left alone.
            #expect(await clock.waitForSleepers(1))
            clock.advance(by: .seconds(99))
            #expect(isAlive(pid), "the hook was ended before its grace was over")
            #expect(!handler.entries.contains { $0.text.hasPrefix("hooks still running after") })
            #expect(await dispatcher.runningHookCount == 1)
            clock.advance(by: .seconds(1))
            await shutdown()
            #expect(!isAlive(pid))
            #expect(
                handler.entries.contains {
                    $0.level == .error && $0.text == "hooks still running after 100.0 seconds: ending them (1 running)"
                })
        }
    }

    @Test func waitUntilIdleWakesWhenTheLastSequenceEndsAndReturnsWhenCancelled() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-wait", "until [ -e \(dir.path)/go ]; do sleep 0.02; done")
        let (logger, _) = memoryLogger()
        let dispatcher = HookDispatcher(catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger)
        // Idle before anything was delivered: returns at once.
        await dispatcher.waitUntilIdle()
        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(syntheticEvent(.rebalanceRecommendation))
            // A cancelled waiter returns although a sequence still runs.
            let cancelled = Task { await dispatcher.waitUntilIdle() }
            cancelled.cancel()
            await cancelled.value
            #expect(await dispatcher.pendingEventCount == 1)
            // Order, not time: the waiter returns only after the sequence ended.
            let waiter = Task {
                await dispatcher.waitUntilIdle()
                return await dispatcher.pendingEventCount
            }
            FileManager.default.createFile(atPath: dir.path + "/go", contents: nil)
            #expect(await waiter.value == 0)
        }
    }

    @Test func whatAFinishedHookLeftBehindIsEndedAtItsTimeoutAndAtShutdown() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // The hook exits at once and leaves a setsid child (adopted by this process, the subreaper).
        try dir.script(
            "tags-changed.d/10-escape",
            """
            setsid sh -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
            echo $! > \(dir.path)/escaped-$IMDSWATCH_EVENT_ID
            exit 0
            """)
        func escaped(_ id: String) throws -> Int32 {
            try #require(Int32((dir.read("escaped-\(id)") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let (logger, _) = memoryLogger()
        // A 1 s timeout: the dispatcher's run() sweeps the leftovers while it runs.
        let quick = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger, timeout: .seconds(1)), logger: logger)
        var first = syntheticEvent(.tagsChanged)
        first.id = "quick"
        try await withRunning(quick) { _ in
            await quick.deliver(first)
            await quick.waitUntilIdle()
            let pid = try escaped("quick")
            defer { kill(pid, SIGKILL) }
            #expect(
                await eventually(timeout: .seconds(30)) { !isAlive(pid) }, "the leftover outlived the hook's timeout")
        }
        // A 300 s timeout: the graceful shutdown ends the leftover at once instead of leaving it behind.
        let slow = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger, timeout: .seconds(300)), logger: logger)
        var second = syntheticEvent(.tagsChanged)
        second.id = "slow"
        var pid: Int32 = 0
        try await withRunning(slow) { shutdown in
            await slow.deliver(second)
            await slow.waitUntilIdle()
            pid = try escaped("slow")
            await shutdown()
        }
        defer { kill(pid, SIGKILL) }
        #expect(!isAlive(pid), "the leftover outlived the dispatcher")
    }

    @Test func theSpotBoundIsEightByDefault() {
        #expect(HookDispatcher.Configuration().maxConcurrentSpotEvents == 8)
        #expect(HookDispatcher.Configuration(maxConcurrentSpotEvents: 0).maxConcurrentSpotEvents == 1)
    }

    @Test func eventsRunInParallelUpToTheBoundAndHooksOfOneEventInOrder() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let log = "\(dir.path)/log"
        // Each first hook waits (up to 10 s) until the other event's first hook has started too: both can only
        // finish in time when the two sequences run at once.
        try dir.script(
            "10-a",
            """
            echo "start a $IMDSWATCH_EVENT_ID" >> \(log)
            touch \(dir.path)/started-$IMDSWATCH_EVENT_ID
            i=0
            until [ -e \(dir.path)/started-one ] && [ -e \(dir.path)/started-two ]; do
                sleep 0.05; i=$((i + 1)); [ $i -gt 200 ] && exit 9
            done
            echo "end a $IMDSWATCH_EVENT_ID" >> \(log)
            """)
        try dir.script("20-b", "echo \"b $IMDSWATCH_EVENT_ID\" >> \(log)")
        let (logger, handler) = memoryLogger()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), configuration: .init(maxConcurrentEvents: 2),
            logger: logger
        )
        var first = syntheticEvent(.maintenanceScheduled)
        first.id = "one"
        var second = syntheticEvent(.maintenanceScheduled)
        second.id = "two"

        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(first)
            await dispatcher.deliver(second)
            await dispatcher.waitUntilIdle()
        }

        #expect(!handler.entries.contains { $0.level == .error }, "both first hooks saw each other running")
        let lines = try #require(dir.read("log")).split(separator: "\n").map(String.init)
        for id in ["one", "two"] {
            let mine = lines.filter { $0.hasSuffix(id) }
            #expect(mine == ["start a \(id)", "end a \(id)", "b \(id)"])
        }
    }

    @Test func eventsBeyondTheBoundWaitTheirTurn() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-record", "echo \"$IMDSWATCH_EVENT_ID\" >> \(dir.path)/log; sleep 0.2")
        let (logger, _) = memoryLogger()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), configuration: .init(maxConcurrentEvents: 1),
            logger: logger
        )

        try await withRunning(dispatcher) { _ in
            for id in ["e1", "e2", "e3"] {
                var event = syntheticEvent(.rebalanceRecommendation)
                event.id = id
                await dispatcher.deliver(event)
            }
            #expect(await dispatcher.pendingEventCount == 3)
            await dispatcher.waitUntilIdle()
        }

        #expect(dir.read("log") == "e1\ne2\ne3\n")
    }

    @Test func dryRunRunsNothingAndLogsWhatWouldRun() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-mark", "touch \(dir.path)/ran")
        let (logger, handler) = memoryLogger()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), configuration: .init(dryRun: true), logger: logger
        )

        try await withRunning(dispatcher) { _ in
            await dispatcher.deliver(syntheticEvent(.spotInterruption))
            await dispatcher.waitUntilIdle()
        }

        #expect(!dir.exists("ran"))
        #expect(
            handler.entries.contains {
                $0.text.contains("dry run: would run hook 10-mark") && $0.field(LogField.hook) == "10-mark"
            })
    }

    @Test func deliverReturnsBeforeTheHooksFinish() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        // The hook cannot finish before the test releases it (or 20 s pass, should deliver wrongly wait for it; the runner allows 30 s).
        try dir.script(
            "10-slow",
            """
            i=0
            until [ -e \(dir.path)/release ] || [ $i -gt 400 ]; do sleep 0.05; i=$((i + 1)); done
            touch \(dir.path)/finished
            """)
        let (logger, handler) = memoryLogger()
        let dispatcher = HookDispatcher(
            catalog: dir.catalog, runner: testRunner(logger: logger), configuration: .init(shutdownGrace: .seconds(60)),
            logger: logger
        )

        try await withRunning(dispatcher) { shutdown in
            await dispatcher.deliver(syntheticEvent(.rebalanceRecommendation))

            #expect(!dir.exists("finished"), "deliver returned only after the hook had finished")
            #expect(FileManager.default.createFile(atPath: dir.path + "/release", contents: nil))
            await shutdown()
        }
        #expect(!handler.entries.contains { $0.text.hasPrefix("hooks still running after") })
        #expect(dir.exists("finished"))
    }

    @Test func eventsAfterShutdownAreNotRun() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-mark", "touch \(dir.path)/ran")
        let (logger, handler) = memoryLogger()
        let dispatcher = HookDispatcher(catalog: dir.catalog, runner: testRunner(logger: logger), logger: logger)

        try await withRunning(dispatcher) { shutdown in await shutdown() }
        await dispatcher.deliver(syntheticEvent(.spotInterruption))

        try await Task.sleep(for: .milliseconds(200))
        #expect(!dir.exists("ran"))
        #expect(handler.entries.contains { $0.level == .error && $0.text.contains("shutting down") })
    }
}

@Suite("Synthetic events")
struct SyntheticEventTests {
    @Test func everyTypeHasARealisticSyntheticEvent() throws {
        let now: Int64 = 1_795_000_000_000
        for event in SyntheticEvents.all(nowMilliseconds: now) {
            #expect(event.synthetic)
            #expect(event.payload["synthetic"] == .bool(true))
            #expect(event.instance.instanceID.hasPrefix("i-"))
            #expect(event.source == event.type.source.path)
        }
        let spot = SyntheticEvents.event(.spotInterruption, nowMilliseconds: now)
        #expect(spot.deadline?.rfc3339 == Timestamp.rfc3339(seconds: now / 1000 + 120))
        let changed = SyntheticEvents.event(.maintenanceChanged, nowMilliseconds: now)
        #expect(changed.detail.previousJSON["not_before"] != nil)
        #expect(changed.detail.previousJSON["not_before"] != changed.detail.dataJSON["not_before"])
        #expect(changed.deadline != nil)
        let asg = SyntheticEvents.event(.asgLifecycleState, nowMilliseconds: now)
        #expect(asg.detail.dataJSON["state"] == "Terminated")
        #expect(asg.detail.previousJSON["state"] == "InService")
        let tags = SyntheticEvents.event(.tagsChanged, nowMilliseconds: now)
        for key in ["added", "removed", "changed", "tags"] { #expect(tags.detail.dataJSON[key] != nil) }
        #expect(tags.deadline == nil)
    }
}
