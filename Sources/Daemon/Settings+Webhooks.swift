import Config
import Logging
import Telemetry
import Webhooks

extension Settings {
    /// The webhook endpoints of these settings, each with its signing key read from its `secret_file`.
    /// - Throws: `WebhookError` when a secret file cannot be read or is empty.
    func webhookEndpoints(logger: Logger) throws -> [WebhookEndpoint] {
        try webhooks.map { endpoint in
            var loaded = endpoint
            loaded.secret = try endpoint.secretFile.map { try WebhookSecret.load(fromFile: $0, logger: logger) }
            return loaded
        }
    }

    /// The webhook dispatcher for these settings (outbox under the state dir).
    package func webhookDispatcher(logger: Logger, telemetry: Telemetry = .disabled) throws -> WebhookDispatcher {
        try WebhookDispatcher(
            endpoints: webhookEndpoints(logger: logger),
            stateDirectory: stateDir,
            version: IMDSWatchVersion.current,
            dryRun: dryRun,
            logger: logger,
            telemetry: telemetry
        )
    }
}
