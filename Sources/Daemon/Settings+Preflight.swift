import Config
import IMDS
import Logging
import Webhooks

/// The checks `run` makes before it starts, in one place: `run`, `get` and `status` call them as they build their
/// parts, and `config check` calls exactly these, so both report the same errors and the same warnings.
extension Settings {
    /// The IMDS endpoint: the flag or file value, else `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else by
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`.
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - warn: Receives the warning for an endpoint that is neither link-local nor loopback.
    /// - Throws: `IMDSError` when IMDS is disabled, the URL is invalid or the mode is unknown.
    package func resolveIMDSEndpoint(
        environment: [String: String] = ProcessEnvironment.current, warn: (String) -> Void
    ) throws(IMDSError) -> IMDSEndpoint {
        let resolved = try IMDSEndpoint.resolve(flag: endpoint, environment: environment)
        if let warning = resolved.locationWarning { warn(warning) }
        return resolved
    }

    /// What `config check` verifies: the IMDS endpoint, then the webhook dispatcher built exactly as `run` builds it
    /// (URLs, `ca_bundle`, secret and template files; duplicate URLs are warned about by the dispatcher itself).
    /// - Parameter logger: Receives the warnings, as `run`'s log would.
    /// - Returns: The errors, one sentence each; empty when `run` would start.
    package func preflightProblems(logger: Logger) -> [String] {
        var problems: [String] = []
        do {
            _ = try resolveIMDSEndpoint { logger.warning("\($0)") }
        } catch {
            problems.append(error.message)
        }
        // Each endpoint as `run` builds it, so that every bad one is named (run stops at the first); then the whole
        // dispatcher once, as run builds it, for the same warnings (a secret file readable by others, duplicate URLs).
        let quiet = Logger(label: "imdswatch") { _ in SwiftLogNoOpLogHandler() }
        for webhook in webhooks {
            var single = self
            single.webhooks = [webhook]
            do {
                _ = try single.webhookDispatcher(logger: quiet)
            } catch let error as WebhookError {
                problems.append(error.message)
            } catch {
                problems.append("\(error)")
            }
        }
        if !webhooks.isEmpty {
            _ = try? webhookDispatcher(logger: logger)
        }
        return problems
    }
}
