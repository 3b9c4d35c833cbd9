import Foundation

extension IMDSWatchContainer {
    /// The journal's current end, for reading only what comes after (``journal(_:after:)``).
    package func journalCursor() async throws -> String {
        let output = try await require("journalctl --show-cursor -n 0 --no-pager")
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("-- cursor: ") }) else {
            throw BootedContainer.Failure("journalctl printed no cursor: \(output)")
        }
        return String(line.dropFirst("-- cursor: ".count))
    }

    /// Journal entries inside the container, oldest first, as field → value (fields that are not UTF-8 text are left
    /// out).
    /// - Parameters:
    ///   - arguments: journalctl matches and options (`-u imdswatch`, `IMDSWATCH_HOOK=10-x`).
    ///   - cursor: Only entries after this cursor (``journalCursor()``). Read with `--cursor` (from the cursor's entry
    ///     on) less that entry: systemd 252's `--after-cursor` with matches skips the first matching entry after the
    ///     cursor when the cursor's own entry does not match.
    package func journal(_ arguments: [String], after cursor: String? = nil) async throws -> [[String: String]] {
        var command = ["journalctl", "--no-pager", "-o", "json"] + arguments
        if let cursor { command.append("--cursor=\(cursor)") }
        let output = try await require(command.map(Self.quoted).joined(separator: " "))
        return output.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            let entry = object.compactMapValues { $0 as? String }
            return cursor != nil && entry["__CURSOR"] == cursor ? nil : entry
        }
    }

    /// Waits until the journal has an entry matching `arguments` after `cursor` that satisfies `predicate`.
    /// - Returns: Every matching entry once one satisfies `predicate`, or `nil` when none came within `timeout`.
    package func waitForJournal(
        _ arguments: [String], after cursor: String? = nil, timeout: Duration = .seconds(120),
        where predicate: @Sendable ([String: String]) -> Bool = { _ in true }
    ) async -> [[String: String]]? {
        await waitForValue(timeout: timeout, every: .milliseconds(250)) {
            guard let entries = try? await self.journal(arguments, after: cursor), entries.contains(where: predicate)
            else { return nil }
            return entries
        }
    }

    /// The results of one hook after `cursor`: its entries that carry `IMDSWATCH_HOOK_EXIT_STATUS`. Not matched by
    /// unit: journald cannot name the unit of an entry whose sender exited right after it (the daemon logs the last
    /// hook's result just before a stop ends it).
    package func hookResults(_ hook: String, after cursor: String) async throws -> [[String: String]] {
        try await journal(["SYSLOG_IDENTIFIER=imdswatch", "IMDSWATCH_HOOK=\(hook)"], after: cursor)
            .filter { $0["IMDSWATCH_HOOK_EXIT_STATUS"] != nil }
    }

    /// Waits for `hook`'s result after `cursor`.
    /// - Returns: Its exit status (`IMDSWATCH_HOOK_EXIT_STATUS`), or `nil` when it did not finish within `timeout`.
    package func waitForHookResult(_ hook: String, after cursor: String, timeout: Duration = .seconds(120)) async
        -> String?
    {
        await waitForValue(timeout: timeout, every: .milliseconds(250)) {
            try? await self.hookResults(hook, after: cursor).first?["IMDSWATCH_HOOK_EXIT_STATUS"]
        }
    }

    /// The unit's journal after `cursor` as `journalctl` prints it, for failure messages.
    package func unitLog(after cursor: String) async -> String {
        let outcome = try? await run("journalctl --no-pager -u imdswatch.service --cursor=\(Self.quoted(cursor))")
        return outcome?.stdout ?? ""
    }

    /// Messages systemd (PID 1) logged about `unit` after `cursor`.
    package func systemdMessages(about unit: String = "imdswatch.service", after cursor: String) async throws
        -> [String]
    {
        try await journal(["_PID=1", "UNIT=\(unit)"], after: cursor).compactMap { $0["MESSAGE"] }
    }
}
