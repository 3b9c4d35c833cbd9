import Events
import Webhooks

/// A parsed and validated config file: the defaults with every value it sets applied.
///
/// Parse one with ``parse(_:path:)`` or ``load(path:)``; combine it with the environment and flags
/// through ``Settings/resolve(file:environment:overrides:)``, which apply over it.
package struct ConfigFile: Sendable, Equatable {
    /// The path the file was read from, as given; used in messages.
    package var path: String
    /// ``Settings()`` with every value of the file applied, the `[[webhook]]` tables included (`[webhook_defaults]`
    /// applied to them). Its ``Settings/sources`` are still the defaults: they are resolved from ``sources`` with
    /// the flags, since `--interval` overrides the intervals of the file's `[sources.NAME]` tables.
    package var settings: Settings
    /// The `[sources.NAME]` tables present.
    package var sources: [MetadataSource: SourceEntry]
    /// `[webhook_defaults]` over the built-in defaults, as an endpoint without a URL; also applied to `--webhook`
    /// URLs.
    package var webhookDefaults: WebhookEndpoint

    /// One `[sources.NAME]` table.
    package struct SourceEntry: Sendable, Equatable {
        /// `enabled`, when given.
        package var enabled: Bool?
        /// `interval`, when given.
        package var interval: Duration?

        /// Creates an entry.
        /// - Parameters:
        ///   - enabled: `enabled`, when given.
        ///   - interval: `interval`, when given.
        package init(enabled: Bool? = nil, interval: Duration? = nil) {
            self.enabled = enabled
            self.interval = interval
        }
    }

    /// An empty file: sets nothing.
    /// - Parameter path: The path used in messages.
    package init(path: String) {
        self.path = path
        settings = Settings()
        sources = [:]
        webhookDefaults = WebhookEndpoint(url: "")
    }

    /// Parses and validates the text of a config file.
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file's path, used in messages (`path:12: key: …`).
    /// - Returns: The values the file sets.
    /// - Throws: ``ConfigError`` with the parser's line and column for a syntax error, or every semantic
    ///   problem (unknown key, wrong type, value out of range, bad URL, unknown event type), each with its key
    ///   and line.
    package static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigFile {
        var decoder = ConfigFileDecoder(text: text, path: path)
        return try decoder.decode()
    }

    /// Reads, parses and validates a config file.
    /// - Parameter path: The file to read.
    /// - Returns: The values the file sets.
    /// - Throws: ``ConfigError`` when the file cannot be read (key empty, no line), or as ``parse(_:path:)``.
    package static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            throw ConfigError(
                ConfigIssue(file: path, key: "", message: "cannot read the config file: \(error.message)"))
        }
        return try parse(text, path: path)
    }
}
