import Events
import Foundation
import Hooks
import InMemoryLogging
import Logging
import Testing

@Suite("Hook discovery")
struct HookCatalogTests {
    @Test func ordersHooksOfHooksDirAndTypeDirByFileName() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("20-b", "true")
        try dir.script("spot-interruption.d/10-a", "true")
        try dir.script("spot-interruption.d/30-c", "true")
        try dir.script("B-upper", "true")
        try dir.script("tags-changed.d/15-other-type", "true")
        try dir.script("spot-interruption.d/20-b", "true")

        let plan = dir.catalog.plan(for: .spotInterruption)
        #expect(
            plan.hooks.map(\.relativePath) == [
                "spot-interruption.d/10-a", "20-b", "spot-interruption.d/20-b", "spot-interruption.d/30-c", "B-upper",
            ])
        #expect(dir.catalog.plan(for: .tagsChanged).hooks.map(\.name) == ["15-other-type", "20-b", "B-upper"])
        #expect(plan.skipped.isEmpty)
    }

    @Test func skipsUnsafeNonExecutableAndIgnoredNames() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-group-writable", "true", mode: 0o775)
        try dir.script("11-world-writable", "true", mode: 0o757)
        try dir.script("12-not-executable", "true", mode: 0o644)
        try dir.script("13-backup~", "true")
        try dir.script(".14-hidden", "true")
        try dir.script("15-x.dpkg-old", "true")
        try dir.script("16-x.rpmnew", "true")
        try dir.script("17-x.orig", "true")
        try dir.script("18-x.swp", "true")
        try dir.script("19-x.disabled", "true")
        try dir.script("20-x.example", "true")
        let foreign = try dir.script("21-foreign-owner", "true")
        #expect(chown(foreign, 65534, 65534) == 0)
        try FileManager.default.createDirectory(atPath: "\(dir.path)/22-directory", withIntermediateDirectories: false)
        try FileManager.default.createDirectory(
            atPath: "\(dir.path)/spot-interuption.d", withIntermediateDirectories: false)
        try dir.script("50-runs", "true")

        let plan = dir.catalog.plan(for: .spotInterruption)
        #expect(plan.hooks.map(\.name) == ["50-runs"])
        let reasons = Dictionary(uniqueKeysWithValues: plan.skipped.map { ($0.name, $0.reason) })
        #expect(reasons["10-group-writable"] == .groupOrWorldWritable)
        #expect(reasons["11-world-writable"] == .groupOrWorldWritable)
        #expect(reasons["12-not-executable"] == .notExecutable)
        #expect(reasons["13-backup~"] == .ignoredName("~"))
        #expect(reasons[".14-hidden"] == .hidden)
        #expect(reasons["15-x.dpkg-old"] == .ignoredName(".dpkg-*"))
        #expect(reasons["16-x.rpmnew"] == .ignoredName(".rpm*"))
        #expect(reasons["17-x.orig"] == .ignoredName(".orig"))
        #expect(reasons["18-x.swp"] == .ignoredName(".swp"))
        #expect(reasons["19-x.disabled"] == .ignoredName(".disabled"))
        #expect(reasons["20-x.example"] == .ignoredName(".example"))
        #expect(reasons["21-foreign-owner"] == .foreignOwner(65534))
        #expect(reasons["22-directory"] == .directory)
        #expect(reasons["spot-interuption.d"] == .unknownTypeDirectory)
    }

    @Test func unsafeHooksAreLoggedAtErrorNamingFileAndReason() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-group-writable", "true", mode: 0o775)
        try dir.script("20-not-executable", "true", mode: 0o644)
        try dir.script("30-backup~", "true")
        let (logger, handler) = memoryLogger()

        dir.catalog.plan(for: .tagsChanged).log(to: logger)

        let errors = handler.entries.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.field(LogField.hook) == "10-group-writable")
        #expect(errors.first?.text.contains("group- or world-writable") == true)
        #expect(handler.entries.contains { $0.level == .notice && $0.field(LogField.hook) == "20-not-executable" })
        #expect(handler.entries.contains { $0.level == .debug && $0.field(LogField.hook) == "30-backup~" })
    }

    @Test func followsSymlinksAndChecksTheTarget() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        let safe = try dir.script("targets.d-not/safe", "true")
        let unsafe = try dir.script("targets.d-not/unsafe", "true", mode: 0o777)
        // The helper directory itself is not a hook.
        symlink(safe, "\(dir.path)/10-link-to-safe")
        symlink(unsafe, "\(dir.path)/20-link-to-unsafe")
        symlink("\(dir.path)/missing", "\(dir.path)/30-dangling")

        let plan = dir.catalog.plan(for: .spotInterruption)
        #expect(plan.hooks.map(\.name) == ["10-link-to-safe"])
        let reasons = Dictionary(uniqueKeysWithValues: plan.skipped.map { ($0.name, $0.reason) })
        #expect(reasons["20-link-to-unsafe"] == .groupOrWorldWritable)
        #expect(reasons["30-dangling"] == .notRegularFile)
    }

    @Test func unsafeTypeDirectorySkipsEveryHookInIt() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("spot-interruption.d/10-a", "true")
        chmod("\(dir.path)/spot-interruption.d", 0o777)

        let plan = dir.catalog.plan(for: .spotInterruption)
        #expect(plan.hooks.isEmpty)
        #expect(plan.skipped.first?.reason.isUnsafe == true)
    }

    @Test func unsafeHooksDirectorySkipsEveryHook() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("10-all", "true")
        try dir.script("spot-interruption.d/10-a", "true")
        chmod(dir.path, 0o770)

        let plan = dir.catalog.plan(for: .spotInterruption)
        #expect(plan.hooks.isEmpty)
        #expect(plan.skipped.map(\.name).sorted() == ["10-a", "10-all"])
        #expect(plan.skipped.allSatisfy { $0.reason.isUnsafe })
    }

    @Test func missingDirectoryMeansNoHooks() {
        let plan = HookCatalog(directory: "/nonexistent/imdswatch/hooks.d").plan(for: .spotInterruption)
        #expect(plan.hooks.isEmpty)
        #expect(plan.directoryError == nil)
    }

    @Test func readsTheDirectoryAfreshEachTime() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        #expect(dir.catalog.plan(for: .tagsChanged).hooks.isEmpty)
        try dir.script("10-new", "true")
        #expect(dir.catalog.plan(for: .tagsChanged).hooks.map(\.name) == ["10-new"])
    }

    @Test func listReportShowsHooksInOrderAndSkipsWithReasons() throws {
        let dir = try HooksDirectory()
        defer { dir.remove() }
        try dir.script("90-all", "true")
        try dir.script("spot-interruption.d/10-first", "true")
        try dir.script("spot-interruption.d/20-off.example", "true")
        try dir.script("50-bad", "true", mode: 0o775)

        let report = HookReport.list(dir.catalog.plans(), directory: dir.path)
        #expect(
            report.contains(
                "spot-interruption:\n  1. spot-interruption.d/10-first\n  2. 90-all\n  skipped spot-interruption.d/20-off.example: name ends in .example"
            ))
        #expect(report.contains("tags-changed:\n  1. 90-all"))
        #expect(report.contains("skipped for every event type:\n  skipped 50-bad: group- or world-writable"))
    }

    @Test func unknownTypeErrorNamesTheValidTypes() {
        let line = HookReport.unknownType("spot")
        #expect(!line.contains("\n"))
        for type in EventType.allCases { #expect(line.contains(type.rawValue)) }
    }
}
