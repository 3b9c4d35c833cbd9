import Events
import Webhooks

extension Settings {
    /// Resolves every setting: flags override the environment, which overrides the config file, which
    /// overrides the defaults.
    ///
    /// The environment supplies `AWS_EC2_METADATA_SERVICE_ENDPOINT` (the endpoint) and `STATE_DIRECTORY`
    /// (the state dir; its first entry when systemd lists several, colon-separated). `--interval` sets the
    /// interval of every source, per-source intervals of the file included; a source with no interval from a flag
    /// or the file polls at its ``MetadataSource/defaultInterval``. `--webhook` URLs are added after
    /// the file's `[[webhook]]` endpoints, with `[webhook_defaults]` and then `--webhook-format` and
    /// `--webhook-secret-file` applied.
    /// - Parameters:
    ///   - file: The parsed config file, or `nil` when there is none.
    ///   - environment: The process environment.
    ///   - overrides: The command-line flags.
    /// - Returns: The resolved settings.
    /// - Throws: ``ConfigError`` naming each bad flag (`--interval`) or environment variable; the file was
    ///   validated when it was parsed.
    package static func resolve(
        file: ConfigFile?, environment: [String: String], overrides: Overrides
    ) throws(ConfigError) -> Settings {
        var settings = file?.settings ?? Settings()
        settings.configFile = file?.path
        var issues: [ConfigIssue] = []
        func fail(_ key: String, _ message: String) { issues.append(ConfigIssue(key: key, message: message)) }

        let endpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
        if let url = environment[endpointVariable], !url.isEmpty {
            if let problem = Validation.endpointProblem(url) {
                fail(endpointVariable, problem)
            } else {
                settings.endpoint = url
            }
        }
        if let directory = stateDirectory(environment) {
            if let problem = Validation.absolutePathProblem(directory) {
                fail("STATE_DIRECTORY", problem)
            } else {
                settings.stateDir = directory
            }
        }

        if let url = overrides.endpoint {
            if let problem = Validation.endpointProblem(url) {
                fail("--endpoint", problem)
            } else {
                settings.endpoint = url
            }
        }
        if let timeout = overrides.imdsTimeout {
            if let problem = Validation.durationProblem(timeout, maximum: .seconds(300)) {
                fail("--imds-timeout", problem)
            } else {
                settings.imdsTimeout = timeout
            }
        }
        if let directory = overrides.hooksDir {
            if let problem = Validation.pathProblem(directory) {
                fail("--hooks-dir", problem)
            } else {
                settings.hooksDir = directory
            }
        }
        if let directory = overrides.stateDir {
            if let problem = Validation.pathProblem(directory) {
                fail("--state-dir", problem)
            } else {
                settings.stateDir = directory
            }
        }
        if let interval = overrides.interval {
            if let problem = Validation.durationProblem(
                interval, minimum: SourceSettings.minimumInterval, exclusive: false)
            {
                fail("--interval", problem)
            } else {
                settings.interval = interval
            }
        }
        if let timeout = overrides.hookTimeout {
            if let problem = Validation.durationProblem(timeout) {
                fail("--hook-timeout", problem)
            } else {
                settings.hookTimeout = timeout
            }
        }
        if let listen = overrides.metricsListen {
            switch ListenAddress.parse(listen) {
            case .success(let address): settings.metrics.listen = address
            case .failure(let problem): fail("--metrics-listen", problem.message)
            }
        }
        settings.log.target = overrides.logTarget ?? settings.log.target
        settings.dryRun = overrides.dryRun ?? settings.dryRun
        settings.asg.apply(overrides, issues: &issues)
        settings.asg.checkEndpointVariables(environment, issues: &issues)
        settings.imdsConnectTimeout = min(settings.imdsConnectTimeout, settings.imdsTimeout)

        for source in MetadataSource.allCases {
            let entry = file?.sources[source]
            let interval =
                overrides.interval == nil
                ? (entry?.interval ?? settings.interval ?? source.defaultInterval)
                : (settings.interval ?? source.defaultInterval)
            settings.sources[source] = SourceSettings(enabled: entry?.enabled ?? true, interval: interval)
        }

        settings.webhooks += flagWebhooks(
            overrides, defaults: file?.webhookDefaults ?? WebhookEndpoint(url: ""), fail: fail)

        if !issues.isEmpty { throw ConfigError(issues: issues) }
        return settings
    }

    /// The endpoints of the `--webhook` flags, checking the flags that go with them.
    private static func flagWebhooks(
        _ overrides: Overrides, defaults: WebhookEndpoint, fail: (String, String) -> Void
    ) -> [WebhookEndpoint] {
        if overrides.webhooks.isEmpty {
            if overrides.webhookFormat != nil {
                fail("--webhook-format", "only applies to --webhook URLs, and none was given")
            }
            if overrides.webhookSecretFile != nil {
                fail("--webhook-secret-file", "only applies to --webhook URLs, and none was given")
            }
            return []
        }
        var settings = defaults
        if let format = overrides.webhookFormat {
            if format == .template {
                fail(
                    "--webhook-format",
                    "expected one of json, cloudevents, slack, got \"template\" (templates are set in the config file)")
            } else {
                settings.format = format
                settings.templateFile = nil
            }
        }
        if let secret = overrides.webhookSecretFile {
            if let problem = Validation.pathProblem(secret) {
                fail("--webhook-secret-file", problem)
            } else {
                settings.secretFile = secret
            }
        }
        if settings.format == .template, settings.templateFile == nil {
            fail("--webhook", "[webhook_defaults] sets format \"template\" but no template_file; give --webhook-format")
        }
        var endpoints: [WebhookEndpoint] = []
        for url in overrides.webhooks {
            if let problem = Validation.urlProblem(url, schemes: ["http", "https"]) {
                fail("--webhook", problem)
                continue
            }
            endpoints.append(WebhookEndpoint(url: url, defaults: settings))
        }
        return endpoints
    }

    /// `$STATE_DIRECTORY`, or its first entry when systemd lists several; `nil` when unset or empty.
    static func stateDirectory(_ environment: [String: String]) -> String? {
        guard let value = environment["STATE_DIRECTORY"],
            let first = value.split(separator: ":", omittingEmptySubsequences: true).first
        else { return nil }
        return String(first)
    }

    /// Finds, reads and validates the config file, then resolves the settings.
    /// - Parameters:
    ///   - configPath: The `--config` value, or `nil` to look in the default locations
    ///     (see ``ConfigFile/locate(explicit:environment:)``).
    ///   - environment: The process environment.
    ///   - overrides: The command-line flags.
    /// - Returns: The resolved settings; ``configFile`` names the file read, if any.
    /// - Throws: ``ConfigError`` when the `--config` file is missing or unreadable, or when the file, the
    ///   environment or the flags are invalid; all problems at once.
    package static func load(
        configPath: String?, environment: [String: String], overrides: Overrides
    ) throws(ConfigError) -> Settings {
        let file = try ConfigFile.locate(explicit: configPath, environment: environment).map {
            path throws(ConfigError) in
            try ConfigFile.load(path: path)
        }
        return try resolve(file: file, environment: environment, overrides: overrides)
    }
}
