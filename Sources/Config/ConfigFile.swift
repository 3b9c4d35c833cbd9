public import Events
public import Journal
public import Logging
public import Webhooks
/// A parsed and validated config file: the values it sets, each `nil` when the file leaves it out.
///
/// Parse one with ``parse(_:path:)`` or ``load(path:)``; combine it with the environment and flags
/// through ``Settings/resolve(file:environment:overrides:)``.
public struct ConfigFile: Sendable, Equatable {
    /// The path the file was read from, as given; used in messages.
    public var path: String
    /// Top-level `endpoint`.
    public var endpoint: String?
    /// Top-level `imds_timeout`.
    public var imdsTimeout: Duration?
    /// Top-level `imds_connect_timeout`.
    public var imdsConnectTimeout: Duration?
    /// Top-level `token_ttl`, in seconds.
    public var tokenTTLSeconds: Int?
    /// Top-level `interval`.
    public var interval: Duration?
    /// The `[sources.NAME]` tables present.
    public var sources: [MetadataSource: SourceEntry]
    /// Top-level `hooks_dir`.
    public var hooksDir: String?
    /// Top-level `hook_timeout`.
    public var hookTimeout: Duration?
    /// Top-level `max_concurrent_events`.
    public var maxConcurrentEvents: Int?
    /// Top-level `state_dir`.
    public var stateDir: String?
    /// Top-level `dry_run`.
    public var dryRun: Bool?
    /// `[log] target`.
    public var logTarget: LogTarget?
    /// `[log] level`.
    public var logLevel: Logger.Level?
    /// `[webhook_defaults]` over the built-in defaults, as an endpoint without a URL; also applied to `--webhook`
    /// URLs.
    public var webhookDefaults: WebhookEndpoint
    /// The `[[webhook]]` tables, with `[webhook_defaults]` applied.
    public var webhooks: [WebhookEndpoint]
    /// The `[asg]` table, with defaults for the keys it leaves out; `nil` when absent.
    public var asg: Settings.AutoScaling?
    /// The `[metrics]` table.
    public var metrics = Settings.MetricsSettings()

    /// One `[sources.NAME]` table.
    public struct SourceEntry: Sendable, Equatable {
        /// `enabled`, when given.
        public var enabled: Bool?
        /// `interval`, when given.
        public var interval: Duration?

        /// Creates an entry.
        /// - Parameters:
        ///   - enabled: `enabled`, when given.
        ///   - interval: `interval`, when given.
        public init(enabled: Bool? = nil, interval: Duration? = nil) {
            self.enabled = enabled
            self.interval = interval
        }
    }

    /// An empty file: sets nothing.
    /// - Parameter path: The path used in messages.
    public init(path: String) {
        self.path = path
        sources = [:]
        webhookDefaults = WebhookEndpoint(url: "")
        webhooks = []
    }

    /// Parses and validates the text of a config file.
    /// - Parameters:
    ///   - text: The TOML text.
    ///   - path: The file's path, used in messages (`path:12: key: …`).
    /// - Returns: The values the file sets.
    /// - Throws: ``ConfigError`` with the parser's line and column for a syntax error, or every semantic
    ///   problem (unknown key, wrong type, value out of range, bad URL, unknown event type), each with its key
    ///   and line.
    public static func parse(_ text: String, path: String) throws(ConfigError) -> ConfigFile {
        var decoder = ConfigFileDecoder(text: text, path: path)
        return try decoder.decode()
    }

    /// Reads, parses and validates a config file.
    /// - Parameter path: The file to read.
    /// - Returns: The values the file sets.
    /// - Throws: ``ConfigError`` when the file cannot be read (key empty, no line), or as ``parse(_:path:)``.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            throw ConfigError(ConfigIssue(file: path, key: "", message: "cannot read the config file: \(error.message)"))
        }
        return try parse(text, path: path)
    }
}
