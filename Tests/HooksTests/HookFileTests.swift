import Events
import Foundation
import InMemoryLogging
import Logging
import Testing

@testable import Hooks

@Suite("Hooks run from the checked descriptor", .timeLimit(.minutes(1)))
struct HookFileTests {
    @Test func scriptAndELFHooksBothRunFromTheDescriptor() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-script", "echo \"script ran as $0 with $IMDSWATCH_EVENT_TYPE\"")
        // An ELF hook: a copy of env(1), which prints the environment it got.
        let elf = "\(dir.path)/20-elf"
        try FileManager.default.copyItem(atPath: "/usr/bin/env", toPath: elf)
        chmod(elf, 0o755)
        let (logger, handler) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .spotInterruption).hooks, for: syntheticEvent(.spotInterruption))

        #expect(results.map(\.termination) == [.exited(0), .exited(0)])
        let script = handler.entries.filter {
            $0.field(LogField.hook) == "10-script" && $0.text.hasPrefix("script ran")
        }
        #expect(script.first?.text.contains("with spot-interruption") == true)
        #expect(script.first?.text.contains("/proc/") == true, "the interpreter read the checked descriptor: \(script)")
        #expect(
            handler.entries.contains {
                $0.field(LogField.hook) == "20-elf" && $0.text == "IMDSWATCH_EVENT_TYPE=spot-interruption"
            })
    }

    @Test func aFileSwappedAfterTheCheckDoesNotRun() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let path = try dir.script("10-hook", "echo checked")
        let opened = HookFile.open(path, owner: 0)
        guard case .opened(let file) = opened else {
            Issue.record("not opened: \(opened)")
            return
        }
        // Replaced after the check (as a flipped symlink or a rename would do): the descriptor keeps the checked file.
        try dir.script(".swap", "echo swapped")
        #expect(rename("\(dir.path)/.swap", path) == 0)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: file.executablePath)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output == "checked\n")
        withExtendedLifetime(file) {}
    }

    @Test func aHookBehindADirectoryAnotherUserControlsIsSkippedAsUnsafe() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let foreign = try HooksDirectory()
        defer { foreign.remove() }
        let target = try foreign.script("hook", "true")
        #expect(chown(foreign.path, 65534, 65534) == 0)
        symlink(target, "\(dir.path)/10-foreign-dir")

        let plan = dir.catalog.plan(for: .spotInterruption)

        #expect(plan.hooks.isEmpty)
        let reason = try #require(plan.skipped.first { $0.name == "10-foreign-dir" }?.reason)
        #expect(reason.isUnsafe)
        let foreignPath = foreign.path.replacingOccurrences(of: "//", with: "/")
        #expect(reason.description.contains("\(foreignPath) is unsafe: the directory is owned by uid 65534"))
    }

    @Test func theRunnerRefusesAHookThatBecameUnsafeAfterThePlan() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let path = try dir.script("10-hook", "echo ran")
        let plan = dir.catalog.plan(for: .spotInterruption)
        chmod(path, 0o777)
        let (logger, handler) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(plan.hooks, for: syntheticEvent(.spotInterruption))

        #expect(results.map(\.exitStatus) == [127])
        #expect(!handler.entries.contains { $0.text == "ran" })
        #expect(
            handler.entries.contains { $0.level == .error && $0.text.contains("refused: group- or world-writable") })
    }

    @Test func aNULOrNewlineInAnIMDSValueIsEscapedAndEveryHookStillRuns() async throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-env", "printf '%s' \"$IMDSWATCH_INSTANCE_ID\" > \"\(dir.path)/id\"")
        try dir.script("20-second", "echo ok > \"\(dir.path)/second\"")
        var event = syntheticEvent(.spotInterruption)
        event.instance.instanceID = "i-0abc\u{0}X\nIMDSWATCH_DRY_RUN=1\\"
        let (logger, _) = memoryLogger()

        let results = await testRunner(logger: logger).runSequence(
            dir.catalog.plan(for: .spotInterruption).hooks, for: event)

        #expect(results.map(\.termination) == [.exited(0), .exited(0)])
        #expect(dir.read("id") == "i-0abc\\x00X\\nIMDSWATCH_DRY_RUN=1\\\\")
        #expect(dir.read("second") == "ok\n")
        #expect("i-0123456789abcdef0".escapingControlCharacters == "i-0123456789abcdef0")
        #expect("a\u{7F}\tb".escapingControlCharacters == "a\\x7f\\tb")
    }

    @Test func hookNamesAreEscapedForTheTerminal() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-evil\n20-forged: ok\u{1b}[2J", "true")
        try dir.script("30-skipped\u{1b}]0;title\u{7}", "true", mode: 0o777)
        let plans = dir.catalog.plans()

        let listing = HookReport.list(plans, directory: dir.path)

        #expect(!listing.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 })
        #expect(listing.contains("10-evil\\n20-forged: ok\\x1b[2J"))
        #expect(!listing.split(separator: "\n").contains { $0.hasPrefix("20-forged") })
        #expect(listing.contains("skipped 30-skipped\\x1b]0;title\\x07: group- or world-writable"))
        #expect(HookReport.unknownType("x\u{1b}[1m").contains("\"x\\x1b[1m\""))
    }
}
