import Config
import HTTP
import Logging
import Telemetry
import Webhooks

extension Settings {
    /// The webhook endpoints of these settings, with their secrets loaded from their files.
    /// - Throws: `WebhookError` when a secret file cannot be read or is empty.
    func webhookEndpoints(logger: Logger) throws -> [Webhooks.WebhookEndpoint] {
        try webhooks.map { endpoint in
            let format: Webhooks.WebhookFormat = switch endpoint.format {
            case .json: .json
            case .cloudevents: .cloudevents
            case .slack: .slack
            case .template: .template(path: endpoint.templateFile ?? "")
            }
            return Webhooks.WebhookEndpoint(
                url: endpoint.url,
                format: format,
                contentType: endpoint.contentType,
                headers: endpoint.headers.sorted { $0.key < $1.key }.map { HTTPHeader($0.key, $0.value) },
                secret: try endpoint.secretFile.map { try WebhookSecret.load(fromFile: $0, logger: logger) },
                events: endpoint.events,
                connectTimeout: endpoint.connectTimeout,
                timeout: endpoint.timeout,
                // nil: libcurl's environment variables; "": an empty CURLOPT_PROXY, which libcurl reads as "no proxy".
                proxy: endpoint.proxy.map { .url($0) } ?? .environment,
                caBundlePath: endpoint.caBundle,
                followRedirects: endpoint.followRedirects,
                maxAge: endpoint.maxAge
            )
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
