import Events

/// The text of `imdswatch hooks list` and `imdswatch hooks test`. File names and reasons come from the disk: each
/// line has its control characters escaped (`\n`, `\x1b`…), so that a crafted name cannot forge lines or send
/// escape sequences to the terminal.
package enum HookReport {
    /// For each event type, the hooks that would run in order and the skipped files with their reasons;
    /// files directly in the hooks directory are skipped for every type, so they are listed once at the end.
    package static func list(_ plans: [HookPlan], directory: String) -> String {
        var lines = ["hooks directory: \(directory)"]
        if let error = plans.lazy.compactMap(\.directoryError).first {
            lines.append("error: cannot read it: \(error)")
        }
        var topLevelSkips: [SkippedHookFile] = []
        for plan in plans {
            lines.append("")
            lines.append("\(plan.eventType.rawValue):")
            if plan.hooks.isEmpty { lines.append("  (no hooks)") }
            for (index, hook) in plan.hooks.enumerated() {
                lines.append("  \(index + 1). \(hook.relativePath)")
            }
            for file in plan.skipped {
                if file.relativePath.contains("/") {
                    lines.append("  skipped \(file.relativePath): \(file.reason)")
                } else if !topLevelSkips.contains(file) {
                    topLevelSkips.append(file)
                }
            }
        }
        if !topLevelSkips.isEmpty {
            lines.append("")
            lines.append("skipped for every event type:")
            for file in topLevelSkips {
                lines.append("  skipped \(file.relativePath): \(file.reason)")
            }
        }
        return lines.map(\.escapingControlCharacters).joined(separator: "\n")
    }

    /// One line per hook result: `10-stop-services: exit status 0 in 0.05 s`.
    package static func results(_ results: [HookResult], plan: HookPlan) -> String {
        guard !results.isEmpty else { return "no hooks for \(plan.eventType.rawValue)" }
        return zip(plan.hooks, results).map { hook, result in
            "\(hook.relativePath): \(result.succeeded ? "ok" : "FAILED"), \(result.summary)".escapingControlCharacters
        }.joined(separator: "\n")
    }

    /// The short name of a signal (`SIGINT`), or its number.
    package static func signalName(_ number: Int32) -> String {
        HookFileSystem.signalName(number)
    }

    /// The one-line error for an unknown event type, naming the valid ones.
    package static func unknownType(_ name: String) -> String {
        "unknown event type \"\(name.escapingControlCharacters)\"; valid types: \(EventType.allCases.map(\.rawValue).joined(separator: ", "))"
    }
}
