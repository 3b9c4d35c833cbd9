import Foundation
import IMDSWatchTestKit
import Testing

extension BootedContainerTests {
    /// The installed unit at work: started by the package, readiness and status, hooks inside the sandbox, the journal,
    /// the strict drop-in.
    @Suite(.serialized) struct Service {
        @Test func packageEnablesAndStartsTheUnit() async throws {
            let box = try await ContainerTest.fixture()
            #expect(try await box.run("systemctl is-enabled imdswatch.service").stdout == "enabled\n")
            #expect(
                try await box.property("FragmentPath").hasSuffix("lib/systemd/system/imdswatch.service"),
                "merged /usr: systemd names /lib")
            #expect(try await box.property("ActiveState") == "active")
            #expect(try await box.property("SubState") == "running")
            #expect(
                try await box.run("test -L /etc/systemd/system/multi-user.target.wants/imdswatch.service").status == 0,
                "enabled for multi-user.target")
            let command = try await box.require(
                "cat /proc/$(systemctl show -p MainPID --value imdswatch)/cmdline | tr '\\0' ' '")
            #expect(command == "/usr/bin/imdswatch run ", "the packaged binary runs")
        }

        /// Also the watchdog at the shipped defaults: a round lasts 60 s there (maintenance and tags), twice
        /// `WatchdogSec=30`, and the healthy daemon must not be killed while it waits for the next one.
        @Test func readyAndStatusAsDocumentedAndTheWatchdogSparesAHealthyDaemon() async throws {
            let box = try await ContainerTest.fixture()
            #expect(try await box.property("Type") == "notify")
            #expect(try await box.property("NotifyAccess") == "main")
            #expect(try await box.property("WatchdogUSec") == "30s", "the shipped WatchdogSec=")
            let pid = try await box.mainPID()
            let restarts = try await box.property("NRestarts")
            let cursor = try await box.journalCursor()
            // Type=notify: systemd logs "Started" only once READY=1 came.
            let started = try await box.journal([
                "_PID=1", "UNIT=imdswatch.service", "JOB_RESULT=done", "JOB_TYPE=start",
            ])
            #expect(!started.isEmpty, "no finished start job: READY=1 never came")
            // STATUS=: "N sources OK, round R", updated as rounds complete.
            let status = try await box.property("StatusText")
            let round = try #require(Self.round(in: status), "StatusText: \(status)")
            #expect(status.hasPrefix("5 sources OK, round "), "\(status)")
            // The next round: up to 60 s, and the process must have lived 60 s to get there at all (the first round
            // ends at its start), twice what the shipped watchdog allows between pings.
            let later = await waitForValue(timeout: .seconds(90), every: .milliseconds(500)) { () -> Int? in
                guard let text = try? await box.property("StatusText"), let next = Self.round(in: text), next > round
                else { return nil }
                return next
            }
            #expect(later != nil, "STATUS= did not move past round \(round)")
            let messages = try await box.systemdMessages(after: cursor)
            #expect(
                !messages.contains { $0.contains("atchdog") }, "the watchdog fired on a healthy daemon: \(messages)")
            #expect(try await box.mainPID() == pid, "the same process")
            #expect(try await box.property("NRestarts") == restarts)
        }

        /// The round number in `N sources OK, round R`.
        private static func round(in status: String) -> Int? {
            guard let range = status.range(of: "round ") else { return nil }
            return Int(status[range.upperBound...].prefix { $0.isNumber })
        }

        @Test func systemctlStatusReadsWell() async throws {
            let box = try await ContainerTest.fixture()
            let outcome = try await box.run("systemctl status imdswatch.service --no-pager --lines=5")
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let text = outcome.stdout
            #expect(text.contains("imdswatch.service - EC2 instance metadata lifecycle watcher (imdswatch)"), "\(text)")
            #expect(text.contains("lib/systemd/system/imdswatch.service; enabled;"), "\(text)")
            #expect(text.contains("Active: active (running)"), "\(text)")
            #expect(text.contains("Status: \"5 sources OK, round "), "\(text)")
            #expect(text.range(of: #"Main PID: \d+ \(imdswatch\)"#, options: .regularExpression) != nil, "\(text)")
            #expect(!text.contains("Warning"), "\(text)")
        }

        @Test func spotHooksStopAServiceWriteVarLibAndRunAndReadRootAws() async throws {
            let box = try await ContainerTest.fixture()
            try await box.write(
                "[default]\naws_access_key_id = AKIDEXAMPLE\n", to: "/root/.aws/credentials", mode: "0600")
            try await box.require("systemd-run --unit=victim-app sleep infinity")
            #expect(try await box.run("systemctl is-active victim-app").stdout == "active\n")
            // Each step records its own outcome, so a failure says which promise broke.
            try await box.installHook(
                "spot-interruption.d/10-operator",
                script: """
                    #!/bin/sh
                    out=/var/lib/imdswatch-test
                    systemctl stop victim-app.service; echo "stop $?" >> $out/steps
                    echo "$IMDSWATCH_EVENT_ID" > /var/lib/imdswatch-test/var-lib; echo "var-lib $?" >> $out/steps
                    echo "$IMDSWATCH_EVENT_ID" > /run/imdswatch-test/run; echo "run $?" >> $out/steps
                    cat /root/.aws/credentials > $out/aws-copy; echo "aws $?" >> $out/steps
                    touch /etc/written-by-hook 2>/dev/null; echo "etc $?" >> $out/steps
                    echo done >> $out/steps
                    """)
            let cursor = try await box.journalCursor()
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            let steps = await box.waitForLines(in: "/var/lib/imdswatch-test/steps") { $0 == "done" }
            #expect(steps?.prefix(4) == ["stop 0", "var-lib 0", "run 0", "aws 0"], "\(steps ?? [])")
            #expect(steps?.dropFirst(4).first != "etc 0", "ProtectSystem=full: /etc is read-only for hooks")
            #expect(try await box.run("systemctl is-active victim-app").stdout == "inactive\n")
            let id = try await box.require("cat /var/lib/imdswatch-test/var-lib")
            #expect(!id.isEmpty)
            #expect(try await box.require("cat /run/imdswatch-test/run") == id)
            #expect(
                try await box.require("cat /var/lib/imdswatch-test/aws-copy")
                    == "[default]\naws_access_key_id = AKIDEXAMPLE\n")
            #expect(await box.waitForHookResult("10-operator", after: cursor) == "0")
        }

        @Test func shippedExampleHooksDoTheirJobAndAMissingDockerFailsNothingElse() async throws {
            let box = try await ContainerTest.fixture()
            try await box.require("systemd-run --unit=myapp sleep infinity")
            try await box.require(
                """
                cd /usr/share/imdswatch/hooks.d
                install -m 0755 spot-interruption.d/10-stop-services.example /etc/imdswatch/hooks.d/spot-interruption.d/10-stop-services
                install -m 0755 spot-interruption.d/20-stop-containers.example /etc/imdswatch/hooks.d/spot-interruption.d/20-stop-containers
                install -m 0755 90-notify.example /etc/imdswatch/hooks.d/90-notify
                """)
            let pid = try await box.mainPID()
            let cursor = try await box.journalCursor()
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)

            #expect(await box.waitForHookResult("10-stop-services", after: cursor) == "0")
            #expect(
                await box.waitForHookResult("20-stop-containers", after: cursor) == "1",
                "with no docker the containers hook fails")
            #expect(await box.waitForHookResult("90-notify", after: cursor) == "0")

            #expect(
                await eventually(timeout: .seconds(60)) {
                    (try? await box.run("systemctl is-active myapp").stdout) == "inactive\n"
                },
                "10-stop-services stopped myapp.service")
            let dockerLines = try await box.journal(
                ["-u", "imdswatch", "IMDSWATCH_HOOK=20-stop-containers", "IMDSWATCH_HOOK_STREAM=stderr"],
                after: cursor
            ).compactMap { $0["MESSAGE"] }
            #expect(dockerLines.contains { $0.contains("docker") && $0.contains("not found") }, "\(dockerLines)")
            #expect(dockerLines.contains { $0.contains("docker ps failed") }, "\(dockerLines)")
            let notices = await box.waitForJournal(["SYSLOG_IDENTIFIER=imdswatch-hook"], after: cursor) {
                $0["MESSAGE"]?.hasPrefix("imdswatch: spot-interruption on i-0123456789abcdef0, deadline ") == true
            }
            #expect(notices != nil, "90-notify wrote its line to the journal")
            #expect(try await box.mainPID() == pid, "the daemon kept running")
            #expect(try await box.property("ActiveState") == "active")
        }

        @Test func journalCarriesTheDocumentedFields() async throws {
            let box = try await ContainerTest.fixture()
            try await box.installHook("spot-interruption.d/10-say", script: "#!/bin/sh\necho 'draining now' >&2\n")
            let cursor = try await box.journalCursor()
            try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
            let detected = try #require(
                await box.waitForJournal(["-u", "imdswatch", "IMDSWATCH_EVENT_TYPE=spot-interruption"], after: cursor) {
                    $0["PRIORITY"] == "4"
                })
            let entry = try #require(detected.first { $0["PRIORITY"] == "4" })
            #expect(entry["SYSLOG_IDENTIFIER"] == "imdswatch")
            #expect(entry["_SYSTEMD_UNIT"] == "imdswatch.service")
            #expect(entry["MESSAGE"]?.contains("spot-interruption") == true, "\(entry)")
            #expect(entry["IMDSWATCH_EVENT_ID"]?.isEmpty == false)
            for field in ["CODE_FILE", "CODE_LINE", "CODE_FUNC", "LOGGER_LABEL"] {
                #expect(entry[field]?.isEmpty == false, "\(field) in \(entry)")
            }
            let id = try #require(entry["IMDSWATCH_EVENT_ID"])
            #expect(await box.waitForHookResult("10-say", after: cursor) == "0")
            let hookLines = try await box.journal(
                ["-u", "imdswatch", "IMDSWATCH_EVENT_ID=\(id)", "IMDSWATCH_HOOK=10-say"], after: cursor)
            #expect(
                hookLines.contains {
                    $0["MESSAGE"]?.contains("draining now") == true && $0["IMDSWATCH_HOOK_STREAM"] == "stderr"
                },
                "\(hookLines)")
            let warnings = try await box.journal(["-u", "imdswatch", "-p", "warning"], after: cursor)
            #expect(warnings.contains { $0["IMDSWATCH_EVENT_ID"] == id }, "the notice is a warning")
        }

        @Test func strictDropInRunsTheHooksItIsMeantFor() async throws {
            let box = try await ContainerTest.fixture()
            try await box.require(
                """
                mkdir -p /etc/systemd/system/imdswatch.service.d
                cp /usr/share/imdswatch/strict.conf.example /etc/systemd/system/imdswatch.service.d/strict.conf
                systemctl daemon-reload && systemctl restart imdswatch
                """, timeout: .seconds(180))
            do {
                #expect(try await box.property("DynamicUser") == "yes")
                #expect(try await box.property("ActiveState") == "active")
                #expect(
                    try await box.require("ps -o user= -p $(systemctl show -p MainPID --value imdswatch)") != "root\n",
                    "the daemon runs as the dynamic user")
                // A hook of the kind the drop-in is for: it logs and writes its own state, nothing else.
                try await box.installHook(
                    "spot-interruption.d/10-record",
                    script: """
                        #!/bin/sh
                        echo "uid $(id -u)"
                        echo "$IMDSWATCH_EVENT_ID" > "$STATE_DIRECTORY/hook-ran"
                        logger -t imdswatch-strict-hook "spot $IMDSWATCH_EVENT_ID"
                        touch /var/lib/imdswatch-test/outside 2>/dev/null && echo "wrote outside the state directory" >&2
                        exit 0
                        """)
                let cursor = try await box.journalCursor()
                try await box.simulator("PUT", "state", body: ContainerTest.spotNotice)
                #expect(await box.waitForHookResult("10-record", after: cursor) == "0")
                let lines = try await box.journal(["-u", "imdswatch", "IMDSWATCH_HOOK=10-record"], after: cursor)
                    .compactMap { $0["MESSAGE"] }
                #expect(lines.contains { $0.hasPrefix("uid ") && $0 != "uid 0" }, "\(lines)")
                #expect(!lines.contains { $0.contains("wrote outside") }, "ProtectSystem=strict: \(lines)")
                let id = try await box.require("cat /var/lib/imdswatch/hook-ran").trimmingCharacters(
                    in: .whitespacesAndNewlines)
                #expect(!id.isEmpty)
                #expect(
                    await box.waitForJournal(["SYSLOG_IDENTIFIER=imdswatch-strict-hook"], after: cursor) {
                        $0["MESSAGE"] == "spot \(id)"
                    } != nil)
            } catch {
                try? await Self.removeStrictDropIn(box)
                throw error
            }
            try await Self.removeStrictDropIn(box)
        }

        private static func removeStrictDropIn(_ box: IMDSWatchContainer) async throws {
            try await box.require(
                """
                rm -f /etc/systemd/system/imdswatch.service.d/strict.conf
                systemctl daemon-reload && systemctl restart imdswatch
                """, timeout: .seconds(180))
        }
    }
}
