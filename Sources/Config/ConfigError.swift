/// One problem found in the configuration: a key of the file, a flag or an environment variable.
package struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file the problem is in, as given by the user; `nil` for flags and the environment.
    package var file: String?
    /// The 1-based line in `file`, when known.
    package var line: Int?
    /// The 1-based column in `file`; only TOML syntax errors have one.
    package var column: Int?
    /// The key (`webhook[0].format`), flag (`--interval`) or environment variable (`STATE_DIRECTORY`);
    /// empty for a syntax error or a problem with the file as a whole.
    package var key: String
    /// What is wrong, e.g. `expected one of json, cloudevents, slack, template, got "xml"`.
    package var message: String

    /// Creates an issue.
    /// - Parameters:
    ///   - file: The file the problem is in, or `nil` for flags and the environment.
    ///   - line: The 1-based line, when known.
    ///   - column: The 1-based column, when known.
    ///   - key: The key, flag or variable at fault; empty when none applies.
    ///   - message: What is wrong.
    package init(file: String? = nil, line: Int? = nil, column: Int? = nil, key: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// One line: `imdswatch.toml:12: webhook[0].format: expected …`, or `--interval: must be …`.
    package var description: String {
        var location = ""
        if let file {
            location = file
            if let line {
                location += ":\(line)"
                if let column { location += ":\(column)" }
            }
            location += ": "
        }
        return location + (key.isEmpty ? "" : key + ": ") + message
    }
}

/// The one error of the Config module: every problem found, not just the first.
package struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems, in the order of the file (then flags and environment).
    package var issues: [ConfigIssue]

    /// Creates an error from its issues.
    /// - Parameter issues: The problems found; at least one.
    package init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// Creates an error with a single issue.
    /// - Parameter issue: The problem found.
    package init(_ issue: ConfigIssue) {
        self.issues = [issue]
    }

    /// One line per issue.
    package var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
