import Events
import Journal
import Logging
import TOMLKit

/// Turns the text of a config file into a ``ConfigFile``, collecting every problem with its key and line.
///
/// TOMLKit parses the text; this type walks the resulting tables, refuses unknown keys, checks types and
/// ranges, and asks a ``SourceMap`` for the line of each key it complains about.
struct ConfigFileDecoder {
    /// The TOML text.
    let text: String
    /// The file's path, for messages.
    let path: String
    /// Problems found so far.
    var issues: [ConfigIssue] = []
    /// Lines of keys, built once the text has parsed.
    var map = SourceMap(text: "")

    /// The keys allowed at the top level.
    static let topLevelKeys = [
        "endpoint", "imds_timeout", "imds_connect_timeout", "token_ttl", "interval", "hooks_dir", "hook_timeout",
        "max_concurrent_events", "state_dir", "dry_run", "log", "sources", "webhook_defaults", "webhook",
        "asg",
        "metrics",
    ]

    init(text: String, path: String) {
        self.text = text
        self.path = path
    }

    /// Parses and validates the whole file.
    /// - Returns: The values it sets.
    /// - Throws: ``ConfigError`` holding the syntax error, or every semantic problem in line order.
    mutating func decode() throws(ConfigError) -> ConfigFile {
        if let bad = TOMLGuard.badTableHeader(in: text) ?? TOMLGuard.braceClosingArray(in: text) {
            throw ConfigError(
                ConfigIssue(
                    file: path, line: bad.line, column: bad.column, key: "",
                    message: "TOML syntax error: \(bad.message)"
                ))
        }
        if let nul = TOMLGuard.nulEscape(in: text) {
            throw ConfigError(
                ConfigIssue(
                    file: path, line: nul.line, column: nul.column, key: nul.key,
                    message: "must not contain NUL (\\u0000): it would cut the value short"
                ))
        }
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(
                ConfigIssue(
                    file: path, line: error.source.begin.line, column: error.source.begin.column,
                    key: "", message: "TOML syntax error: \(error.description)"
                ))
        } catch {
            throw ConfigError(ConfigIssue(file: path, key: "", message: "TOML syntax error: \(error)"))
        }
        map = SourceMap(text: text)

        var file = ConfigFile(path: path)
        checkKeys(root, at: "", allowed: Self.topLevelKeys)
        if let endpoint = string(root, "endpoint", at: "") {
            if let problem = Validation.endpointProblem(endpoint) {
                fail("endpoint", problem)
            } else {
                file.settings.endpoint = endpoint
            }
        }
        Self.apply(duration(root, "imds_timeout", at: "", maximum: .seconds(300)), to: &file.settings.imdsTimeout)
        Self.apply(
            duration(root, "imds_connect_timeout", at: "", maximum: .seconds(300)),
            to: &file.settings.imdsConnectTimeout)
        Self.apply(integer(root, "token_ttl", at: "", range: 1...21600), to: &file.settings.tokenTTLSeconds)
        file.settings.interval = duration(
            root, "interval", at: "", minimum: SourceSettings.minimumInterval, exclusive: false)
        Self.apply(absolutePath(root, "hooks_dir", at: ""), to: &file.settings.hooksDir)
        Self.apply(duration(root, "hook_timeout", at: ""), to: &file.settings.hookTimeout)
        Self.apply(
            integer(root, "max_concurrent_events", at: "", range: 1...64), to: &file.settings.maxConcurrentEvents)
        Self.apply(absolutePath(root, "state_dir", at: ""), to: &file.settings.stateDir)
        Self.apply(bool(root, "dry_run", at: ""), to: &file.settings.dryRun)

        if let log = table(root, "log", at: "") {
            checkKeys(log, at: "log", allowed: ["target", "level"])
            Self.apply(choice(log, "target", at: "log", of: LogTarget.self), to: &file.settings.log.target)
            Self.apply(choice(log, "level", at: "log", of: Logger.Level.self), to: &file.settings.log.level)
        }
        if let sources = table(root, "sources", at: "") {
            checkKeys(sources, at: "sources", allowed: MetadataSource.allCases.map(\.rawValue))
            for source in MetadataSource.allCases {
                let sourcePath = "sources." + source.rawValue
                guard let entry = table(sources, source.rawValue, at: "sources") else { continue }
                checkKeys(entry, at: sourcePath, allowed: ["enabled", "interval"])
                file.sources[source] = ConfigFile.SourceEntry(
                    enabled: bool(entry, "enabled", at: sourcePath),
                    interval: duration(
                        entry, "interval", at: sourcePath, minimum: SourceSettings.minimumInterval, exclusive: false)
                )
            }
        }
        if let defaults = table(root, "webhook_defaults", at: "") {
            checkKeys(defaults, at: "webhook_defaults", allowed: Self.webhookKeys.filter { $0 != "url" })
            applyWebhookKeys(defaults, at: "webhook_defaults", to: &file.webhookDefaults)
        }
        file.settings.webhooks = webhooks(root, defaults: file.webhookDefaults)
        Self.apply(autoScaling(root), to: &file.settings.asg)
        file.settings.metrics = metrics(root)

        if !issues.isEmpty {
            throw ConfigError(
                issues: issues.enumerated().sorted { lhs, rhs in
                    (lhs.element.line ?? Int.max, lhs.offset) < (rhs.element.line ?? Int.max, rhs.offset)
                }.map(\.element))
        }
        return file
    }

    /// Sets `target` to `value` when the file gave one.
    static func apply<Value>(_ value: Value?, to target: inout Value) {
        if let value { target = value }
    }

    // MARK: - Problems

    /// The full path of `key` in the table at `parent`.
    func keyPath(_ parent: String, _ key: String) -> String {
        parent.isEmpty ? key : parent + "." + key
    }

    /// Records a problem with the key at `keyPath`, finding its line in the text.
    mutating func fail(_ keyPath: String, _ message: String) {
        issues.append(ConfigIssue(file: path, line: map.line(for: keyPath), key: keyPath, message: message))
    }

    /// Records every key of `table` that is not in `allowed`, suggesting the closest allowed one.
    mutating func checkKeys(_ table: TOMLTable, at parent: String, allowed: [String]) {
        for key in table.keys where !allowed.contains(key) {
            var message = "unknown key"
            if let suggestion = Self.closest(to: key, in: allowed) {
                message += "; did you mean \(Validation.quoted(suggestion))?"
            } else {
                message += "; expected one of " + allowed.joined(separator: ", ")
            }
            fail(keyPath(parent, key), message)
        }
    }

    /// The allowed key within edit distance 2 of `key`, if any.
    static func closest(to key: String, in allowed: [String]) -> String? {
        let scored = allowed.map { ($0, editDistance(key, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between two short strings.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs)
        let b = Array(rhs)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
