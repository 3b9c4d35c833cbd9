import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Hostile hooks under the real daemon (`--hook-timeout 1`): one hangs, one dies by a signal, one leaves a child
/// behind, one prints without end. Polling and later events' hooks go on; nothing leaks; the leftover child dies.
extension FaultInjection {
    @Suite struct HookTests {
        typealias K = FaultKit

        @Test func hangingCrashingOrphaningAndChattyHooks() async throws {
            try await K.withDaemon(arguments: ["--hook-timeout", "1"]) { daemon in
                let simulator = daemon.simulator
                let baseline = try K.sample(daemon)
                let logStart = K.lineCount(daemon)
                let orphanPID = daemon.directory + "/orphan.pid"
                let escapedPID = daemon.directory + "/escaped.pid"

                // The directory is read afresh for every event: the hostile hooks take part from the next event on.
                try daemon.installHook(named: "asg-lifecycle-state.d/10-hang", script: "#!/bin/sh\nsleep 1000\n")
                try daemon.installHook(
                    named: "rebalance-recommendation.d/10-crash", script: "#!/bin/sh\nkill -SEGV $$\nsleep 5\n")
                try daemon.installHook(
                    named: "maintenance-scheduled.d/10-orphan",
                    script: """
                        #!/bin/sh
                        sleep 1000 </dev/null >/dev/null 2>&1 &
                        echo $! > "\(orphanPID)"
                        setsid sleep 1000 </dev/null >/dev/null 2>&1 &
                        echo $! > "\(escapedPID)"
                        exit 0
                        """)
                try daemon.installHook(
                    named: "tags-changed.d/10-chatty",
                    script: """
                        #!/bin/sh
                        exec yes "$(head -c 3000 /dev/zero | tr '\\0' y)"
                        """)

                simulator.update {
                    $0.asgState = "Standby"
                    $0.rebalance = K.t0
                    $0.scheduledEvents = [
                        MaintenanceEvent(
                            eventId: "instance-event-0hooks", notBefore: K.t0,
                            notAfter: K.t0.addingTimeInterval(3600))
                    ]
                    $0.tags = [InstanceTag("Name", "chatty")]
                }
                await daemon.waitForRecords(of: .asgLifecycleState, count: 2)
                await daemon.waitForRecords(of: .rebalanceRecommendation)
                await daemon.waitForRecords(of: .maintenanceScheduled)
                await daemon.waitForRecords(of: .tagsChanged)

                // While they misbehave: polling goes on, and a spot notice's hooks run. (That spot hooks do not wait behind
                // hanging ones is checked by order, not by time, in HookDispatcherTests and DaemonWebhookTests.)
                let from = K.requests(daemon)
                #expect(
                    await K.waitForPolls(daemon, 10, after: from, timeout: .seconds(60)),
                    "polling goes on during the hooks")
                simulator.update { $0.spot = SpotNotice(action: .terminate, time: K.t0) }
                #expect(await daemon.waitForRecords(of: .spotInterruption, timeout: .seconds(60)).count == 1)

                // Results: the timeouts and the signal are reported; the orphan dies with the hook's process group.
                #expect(await K.waitForLine(daemon, containing: "hook 10-hang failed", from: logStart) != nil)
                #expect(await K.waitForLine(daemon, containing: "hook 10-chatty failed", from: logStart) != nil)
                #expect(await K.waitForLine(daemon, containing: "hook 10-crash failed", from: logStart) != nil)
                #expect(K.lines(daemon, containing: "hook 10-orphan finished", from: logStart).count == 1)
                let pidText = try String(contentsOfFile: orphanPID, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                let orphan = try #require(Int32(pidText))
                #expect(
                    await eventually(timeout: .seconds(60), every: .milliseconds(50)) { !ProcessProbe.isAlive(orphan) },
                    "the hook's leftover child is ended once the hook's timeout is up")
                if ProcessProbe.isAlive(orphan) { kill(orphan, SIGKILL) }
                // So is the one that left the group with setsid (adopted by the daemon, a child subreaper).
                let escapedText = try String(contentsOfFile: escapedPID, encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)
                let escaped = try #require(Int32(escapedText))
                #expect(
                    await eventually(timeout: .seconds(60), every: .milliseconds(50)) {
                        !ProcessProbe.isAlive(escaped)
                    },
                    "the hook's setsid child is ended once the hook's timeout is up")
                if ProcessProbe.isAlive(escaped) { kill(escaped, SIGKILL) }
                let notLogged = K.lines(daemon, containing: "more bytes of stdout not logged", from: logStart)
                #expect(notLogged.count <= 1, "the endless output is capped with one line: \(notLogged)")

                // A later event, with the hostile hooks gone: its hook runs; the daemon is as lean as before.
                for name in [
                    "asg-lifecycle-state.d/10-hang", "rebalance-recommendation.d/10-crash",
                    "maintenance-scheduled.d/10-orphan", "tags-changed.d/10-chatty",
                ] {
                    try FileManager.default.removeItem(atPath: daemon.hooksDir + "/" + name)
                }
                simulator.update { $0.asgState = "InService" }
                #expect(
                    await daemon.waitForRecords(of: .asgLifecycleState, count: 3).count == 3,
                    "later events still run hooks")
                try await Task.sleep(for: .milliseconds(500))
                #expect(
                    K.counts(daemon) == [
                        "asg-lifecycle-state": 3, "rebalance-recommendation": 1, "maintenance-scheduled": 1,
                        "tags-changed": 1, "spot-interruption": 1,
                    ])
                K.expectFlat(baseline, try K.sample(daemon), rssKiB: 8192, "after hostile hooks")
                #expect(daemon.process?.isRunning == true)
            }
        }
    }

    /// `imdswatch hooks test` ends what a hook started as the daemon does: at the timeout and on SIGINT, SIGTERM or
    /// SIGHUP, the hook, its process group and the children that left it with `setsid`; and a hook's stdin holds the
    /// whole payload from the moment it starts.
    @Suite struct HooksTestCommandTests {
        /// A new directory `root` with `hooks.d/spot-interruption.d/10-hook`, the `/bin/sh` script `script(root)` (the
        /// hook writes its markers into `root`).
        private func hooksDirectory(_ script: (String) -> String) throws -> (root: String, hooks: String) {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "imdswatch-hooks-test-\(UUID().uuidString)"
            ).path
            let hooks = root + "/hooks.d"
            try FileManager.default.createDirectory(
                atPath: hooks + "/spot-interruption.d", withIntermediateDirectories: true)
            let path = hooks + "/spot-interruption.d/10-hook"
            try "#!/bin/sh\n\(script(root))\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
            return (root, hooks)
        }

        private func pid(_ path: String) throws -> Int32 {
            try #require(
                Int32(try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            )
        }

        @Test func theTimeoutEndsAChildThatLeftWithSetsid() async throws {
            // The escaped child ignores SIGTERM: only the SIGKILL after the grace period ends it.
            let (root, hooks) = try hooksDirectory { root in
                """
                setsid sh -c 'trap "" TERM; exec sleep 300' </dev/null >/dev/null 2>&1 &
                echo $! > \(root)/escaped
                sleep 300
                """
            }
            defer { try? FileManager.default.removeItem(atPath: root) }

            let outcome = try await ProcessRunner.imdswatch(
                ["hooks", "test", "spot-interruption", "--hooks-dir", hooks, "--hook-timeout", "1"],
                timeout: .seconds(120)
            )

            #expect(outcome.status == 1, "the timed-out hook failed: \(outcome.stdout) \(outcome.stderr)")
            let escaped = try pid(root + "/escaped")
            defer { kill(escaped, SIGKILL) }
            #expect(
                await eventually(timeout: .seconds(60)) { !ProcessProbe.isAlive(escaped) },
                "the hook's setsid child \(escaped) outlived the timeout and the command")
        }

        @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
        func aSignalEndsTheHookAndEveryProcessItStartedAndExitsSayingSo(signal: Int32) async throws {
            let (root, hooks) = try hooksDirectory { root in
                """
                setsid sh -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
                echo $! > \(root)/escaped
                sleep 300 &
                echo $! > \(root)/grouped
                echo $$ > \(root)/hook
                wait
                """
            }
            defer { try? FileManager.default.removeItem(atPath: root) }
            let command = try BackgroundProcess(
                ProcessRunner.imdswatchPath,
                ["hooks", "test", "spot-interruption", "--hooks-dir", hooks, "--hook-timeout", "300"]
            )
            #expect(await eventually(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: root + "/hook") })
            let pids = try ["hook", "grouped", "escaped"].map { try pid(root + "/" + $0) }
            defer { for pid in pids { kill(pid, SIGKILL) } }

            command.signal(signal)
            let status = await command.wait(timeout: .seconds(60))

            #expect(status == 128 + signal, "exit status \(status): \(command.lines)")
            #expect(
                command.lines.contains { $0.contains("interrupted by") && $0.contains("were ended") },
                "\(command.lines)")
            for pid in pids {
                #expect(
                    await eventually(timeout: .seconds(60)) { !ProcessProbe.isAlive(pid) },
                    "process \(pid) outlived hooks test")
            }
        }

        /// The daemon dies (SIGKILL) right after it spawned a hook, before it could do anything more: the hook still
        /// reads the whole payload on stdin. gdb holds `hooks test` at the spawn (the hook exec'd and running, the
        /// parent stopped at its first system call after the spawn); a payload written to a pipe after the spawn would
        /// never come, and the hook would read end-of-file, an empty payload.
        @Test func aHookReadsItsWholePayloadEvenWhenTheDaemonIsKilledRightAfterTheSpawn() async throws {
            let (root, hooks) = try hooksDirectory { root in
                """
                echo $PPID > \(root)/parent
                i=0
                until [ -e \(root)/go ]; do sleep 0.02; i=$((i + 1)); [ $i -gt 5000 ] && break; done
                cat > \(root)/stdin
                touch \(root)/read
                """
            }
            defer { try? FileManager.default.removeItem(atPath: root) }
            // gdb needs SIGCHLD and friends, which a test runner's thread may block (a mask is inherited): python3
            // unblocks every signal and execs it.
            let unblocked =
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"
            let gdb = try BackgroundProcess(
                "/usr/bin/python3",
                [
                    "-c", unblocked, "/usr/bin/gdb", "-nx", "-batch", "--readnever", "-ex",
                    "set startup-with-shell off", "-ex", "set follow-fork-mode parent",
                    "-ex", "set detach-on-fork on", "-ex", "catch vfork", "-ex", "run",
                    // Stopped at the spawn (the child not yet released); let the child go and stop at the parent's next
                    // system call: the spawning thread's close of its end of the exec-status pipe, right after the hook was
                    // exec'd, before anything else the spawn does (or any payload write after it).
                    "-ex", "catch syscall close", "-ex", "continue", "-ex", "shell sleep 600",
                    "--args", ProcessRunner.imdswatchPath, "hooks", "test", "spot-interruption", "--hooks-dir", hooks,
                ])
            defer { gdb.signal(SIGKILL) }

            #expect(
                await eventually(timeout: .seconds(120)) { FileManager.default.fileExists(atPath: root + "/parent") },
                "the hook started: \(gdb.lines)")
            let parent = try pid(root + "/parent")
            // The hook may run before gdb has stopped its parent at that system call; it stops before writing anything.
            func state() -> Substring? {
                (try? String(contentsOfFile: "/proc/\(parent)/stat", encoding: .utf8))?.split(separator: ")").last?
                    .split(separator: " ").first
            }
            #expect(
                await eventually(timeout: .seconds(60)) { state() == "t" },
                "hooks test is held by gdb (state \(state() ?? "?"))")
            kill(parent, SIGKILL)
            #expect(await eventually(timeout: .seconds(60)) { !ProcessProbe.isAlive(parent) })
            _ = FileManager.default.createFile(atPath: root + "/go", contents: nil)

            #expect(await eventually(timeout: .seconds(60)) { FileManager.default.fileExists(atPath: root + "/read") })
            let stdin = try String(contentsOfFile: root + "/stdin", encoding: .utf8)
            #expect(stdin.contains("\"type\":\"spot-interruption\""), "the hook's stdin: \"\(stdin)\"")
            #expect(stdin.hasSuffix("}\n") || stdin.hasSuffix("}"), "the whole payload: \"\(stdin)\"")
        }
    }
}
