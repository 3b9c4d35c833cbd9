import AWS
import Config
import Events
import HTTP
import IMDS
import Lifecycle
import Logging
import Telemetry
import Watch

extension Settings {
    /// The lookups lifecycle actions need, over `imds` and a libcurl transport of their own for the AWS API
    /// (proxy from the usual environment variables unless `awsProxy` says otherwise, system CAs).
    /// - Parameters:
    ///   - environment: Where AWS credentials, region and endpoint variables are read (the demo gives none).
    ///   - awsProxy: How the AWS API is reached.
    package func lifecycleContext(
        imds: IMDSClient<EventLoopClock>, environment: [String: String] = ProcessEnvironment.current,
        awsProxy: CurlTransport.Options.Proxy = .environment, logger: Logger
    ) -> LifecycleContext {
        let clock = ContinuousClock()
        return LifecycleContext(
            environment: environment,
            metadata: imds,
            transport: CurlTransport(
                options: .init(proxy: awsProxy, userAgent: "imdswatch/\(IMDSWatchVersion.current)"),
                name: "imdswatch-aws"),
            endpoint: asg.endpoint,
            sleep: { try await clock.sleep(for: $0) },
            logger: logger
        )
    }

    /// The lifecycle actions component in front of `downstream` (the hooks and webhooks).
    /// - Parameter environment: As for ``lifecycleContext(imds:environment:awsProxy:logger:)``, with `awsProxy`.
    /// - Parameter telemetry: Counts each call's outcome (`imdswatch_lifecycle_actions_total`; dry runs are not calls).
    package func lifecycleActions(
        imds: IMDSClient<EventLoopClock>, downstream: any EventSink,
        environment: [String: String] = ProcessEnvironment.current,
        awsProxy: CurlTransport.Options.Proxy = .environment, telemetry: Telemetry = .disabled, logger: Logger
    ) -> LifecycleActions {
        let clock = ContinuousClock()
        let context = lifecycleContext(imds: imds, environment: environment, awsProxy: awsProxy, logger: logger)
        return LifecycleActions(
            settings: asg, dryRun: dryRun, downstream: downstream, context: context,
            stateDirectory: stateDir, sleep: { try await clock.sleep(for: $0) }, logger: logger, telemetry: telemetry
        )
    }
}

extension Settings {
    /// `config check` lines for `[asg]` (no IMDS read: where credentials and the region will come from, and a
    /// clear line when neither the environment nor, at run time, the instance profile can provide them).
    package func autoScalingSummary(environment: [String: String]) -> [String] {
        guard asg.isEnabled else { return ["  asg: no lifecycle hook to complete"] }
        let seconds = asg.heartbeatInterval.components.seconds
        var lines = [
            "  asg: termination hook \(asg.terminationHook ?? "none"), launch hook \(asg.launchHook ?? "none"), group \(asg.group ?? "from the tag aws:autoscaling:groupName or DescribeAutoScalingInstances"), heartbeats \(seconds == 0 ? "off" : "every \(seconds)s"), on hook failure \(asg.onHookFailure.configName)"
        ]
        let hasKeys =
            !(environment["AWS_ACCESS_KEY_ID"] ?? "").isEmpty && !(environment["AWS_SECRET_ACCESS_KEY"] ?? "").isEmpty
        lines.append(
            hasKeys
                ? "  asg credentials: environment (AWS_ACCESS_KEY_ID)"
                : "  asg credentials: not in the environment: the instance profile must provide them (checked at start and by `imdswatch status`; without one no lifecycle action can be completed)"
        )
        if let region = AutoScalingEndpoint.region(environment: environment, identityRegion: nil) {
            lines.append(
                "  asg region: \(region) (environment), endpoint \(RedactedURL.redact(AutoScalingEndpoint.resolve(configured: asg.endpoint, environment: environment, region: region)))"
            )
        } else {
            lines.append("  asg region: not in the environment (AWS_REGION): read from the identity document at start")
        }
        return lines
    }
}
