import AWS
import Durability
import Events
import Foundation
import HTTP
import IMDS
import Logging

/// What lifecycle actions need to know about the instance and how to reach the API: the group (config, tag,
/// `DescribeAutoScalingInstances`), the instance id and region (identity document; `AWS_REGION` overrides),
/// the credentials and one ``AutoScalingClient`` per region.
package actor LifecycleContext {
    private let environment: [String: String]
    private let metadata: any MetadataReader
    private let transport: any HTTPTransport
    private let endpointSetting: String?
    private let sleep: @Sendable (Duration) async throws -> Void
    private let jitter: @Sendable (Duration) -> Duration
    private let now: @Sendable () -> Int64
    private let logger: Logger
    /// Where credentials come from.
    package let credentials: CredentialsProvider
    private var clients: [String: AutoScalingClient] = [:]
    private var cachedGroup: (group: String, source: String)?
    private var identity: (instanceID: String, region: String)?
    /// Why the last `DescribeAutoScalingInstances` lookup failed, when it did.
    private var lookupFailure: AutoScalingError?
    private var hookDescriptions: [String: AutoScalingClient.HookDescription] = [:]

    /// Creates a context.
    /// - Parameters:
    ///   - environment: The process environment (credentials, region, endpoint variables).
    ///   - metadata: Reads IMDS paths.
    ///   - transport: The libcurl transport for the API.
    ///   - endpoint: `[asg] endpoint`.
    ///   - sleep: Waits between retries (a clock's `sleep(for:)`).
    ///   - jitter: Backoff jitter (tests inject a fixed one).
    ///   - wallClock: The one wall-clock time source (``SystemWallClock`` by default; tests inject theirs).
    ///   - logger: For the API client's retry lines.
    package init(
        environment: [String: String], metadata: any MetadataReader, transport: any HTTPTransport, endpoint: String?,
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        jitter: @escaping @Sendable (Duration) -> Duration = AutoScalingClient.fullJitter,
        wallClock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.environment = environment
        self.metadata = metadata
        self.transport = transport
        self.endpointSetting = endpoint
        self.sleep = sleep
        self.jitter = jitter
        self.now = { wallClock.now() / 1000 }
        self.wallClock = wallClock
        self.logger = logger
        self.credentials = CredentialsProvider(
            environment: environment, metadata: metadata, now: { wallClock.now() / 1000 },
            warn: { logger.warning("\($0)") }
        )
    }

    /// The wall clock (``SystemWallClock`` in production).
    package nonisolated let wallClock: any WallClock

    /// The wall clock's time in Unix milliseconds.
    package nonisolated func nowMilliseconds() -> Int64 { wallClock.now() }

    /// Why a lifecycle action cannot be addressed.
    package nonisolated var missingRegionOrInstance: String {
        "the instance id or the region is unknown (identity document unreadable and AWS_REGION not set)"
    }

    /// The API client for a region.
    package func client(region: String) -> AutoScalingClient {
        if let client = clients[region] { return client }
        let endpoint = AutoScalingEndpoint.resolve(
            configured: endpointSetting, environment: environment, region: region)
        let client = AutoScalingClient(
            configuration: .init(endpoint: endpoint, region: region), transport: transport, credentials: credentials,
            sleep: sleep, jitter: jitter, now: now, logger: logger
        )
        clients[region] = client
        return client
    }

    /// The instance id: the event's, else `meta-data/instance-id`.
    package func instanceID(_ instance: InstanceInfo) async -> String? {
        if !instance.instanceID.isEmpty { return instance.instanceID }
        return await identityDocument()?.instanceID
    }

    /// The region: `AWS_REGION` (or `AWS_DEFAULT_REGION`), else the event's, else the identity document's.
    package func region(_ instance: InstanceInfo) async -> String? {
        if let region = AutoScalingEndpoint.region(environment: environment, identityRegion: instance.region) {
            return region
        }
        return await identityDocument()?.region
    }

    /// The group and where it came from: `[asg] group`, else the instance tag `aws:autoscaling:groupName`, else
    /// (when `allowAPI`) `DescribeAutoScalingInstances`, with the retries of every Auto Scaling call
    /// (``AutoScalingClient/Configuration/defaultRetry``) for as long as `persistence` says. Cached once found.
    /// Cancelling the calling task ends the lookup at once (the request in flight included): the result is `nil`.
    package func group(
        settings: AutoScalingSettings, instance: InstanceInfo, allowAPI: Bool,
        persistence: AutoScalingClient.Persistence = .attempts,
        logger: Logger
    ) async -> String? {
        await groupAndSource(
            settings: settings, instance: instance, allowAPI: allowAPI, persistence: persistence, logger: logger)?.group
    }

    /// Why ``group(settings:instance:allowAPI:persistence:logger:)`` found no group, for the line that says the
    /// lifecycle hook cannot be completed: the credentials when the service rejected them, else the group.
    package var groupUnknownReason: String {
        if let lookupFailure, lookupFailure.isCredentialsProblem {
            return
                "the AWS credentials were rejected (\(lookupFailure.awsCode ?? lookupFailure.code.rawValue)): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN or the instance profile"
        }
        if let lookupFailure, lookupFailure.code == .accessDenied {
            return "the Auto Scaling group is unknown: set [asg] group, or allow \(lookupFailure.missingPermission)"
        }
        return "the Auto Scaling group is unknown (set [asg] group)"
    }

    /// Why the last `DescribeAutoScalingInstances` lookup failed (`nil`: it did not, or it found no group).
    package var lastLookupFailure: AutoScalingError? { lookupFailure }

    /// ``group(settings:instance:allowAPI:persistence:logger:)`` with its source (`config`, `tag`, `DescribeAutoScalingInstances`).
    package func groupAndSource(
        settings: AutoScalingSettings, instance: InstanceInfo, allowAPI: Bool,
        persistence: AutoScalingClient.Persistence = .attempts,
        logger: Logger
    ) async -> (group: String, source: String)? {
        if let group = settings.group { return (group, "config") }
        if let cachedGroup { return cachedGroup }
        do {
            if let tag = try await metadata.text(InstanceTags.valuePath("aws:autoscaling:groupName")), !tag.isEmpty {
                cachedGroup = (tag.trimmingCharacters(in: .whitespacesAndNewlines), "tag aws:autoscaling:groupName")
                return cachedGroup
            }
        } catch {
            logger.debug("instance tag aws:autoscaling:groupName not readable: \(error)")
        }
        guard allowAPI, let instanceID = await instanceID(instance), let region = await region(instance) else {
            return nil
        }
        do {
            let found = try await client(region: region).groupName(ofInstance: instanceID, persistence: persistence)
            lookupFailure = nil
            if let found {
                cachedGroup = (found, "DescribeAutoScalingInstances")
                return cachedGroup
            }
            logger.error("DescribeAutoScalingInstances: instance \(instanceID) is in no Auto Scaling group")
        } catch {
            if Task.isCancelled {
                logger.notice("the Auto Scaling group lookup was cancelled (shutting down)")
            } else {
                lookupFailure = error
                logger.error("cannot find the Auto Scaling group: \(error)")
            }
        }
        return nil
    }

    /// The hook's `HeartbeatTimeout` and `DefaultResult` (`DescribeLifecycleHooks`, 5 attempts), cached once known.
    /// - Returns: `nil` when they cannot be read (the permission `autoscaling:DescribeLifecycleHooks` is optional).
    package func hookDescription(_ target: LifecycleActionTarget, region: String) async -> AutoScalingClient
        .HookDescription?
    {
        let key = "\(region)|\(target.group)|\(target.hook)"
        if let known = hookDescriptions[key] { return known }
        do {
            guard let found = try await client(region: region).describeHook(group: target.group, hook: target.hook)
            else { return nil }
            hookDescriptions[key] = found
            return found
        } catch {
            if !Task.isCancelled {
                logger.info("cannot read the lifecycle hook's timeout (\(error)): assuming the longest AWS allows")
            }
            return nil
        }
    }

    /// Logs one line saying whether credentials and a region are available, and which hooks will be completed.
    /// - Parameters:
    ///   - settings: The `[asg]` settings.
    ///   - allowAPI: Whether `DescribeAutoScalingInstances` may be called to find the group (not in dry run).
    package func logReadiness(settings: AutoScalingSettings, allowAPI: Bool) async {
        for line in await readinessLines(settings: settings, allowAPI: allowAPI) {
            if line.problem { logger.error("\(line.text)") } else { logger.info("\(line.text)") }
        }
    }

    /// Lines for `status` and the start of `run`: hooks, group, credentials' source, region; `problem` marks
    /// missing credentials or region.
    package func readinessLines(settings: AutoScalingSettings, allowAPI: Bool) async -> [(text: String, problem: Bool)]
    {
        var lines: [(text: String, problem: Bool)] = []
        let hooks =
            "termination hook \(settings.terminationHook ?? "none"), launch hook \(settings.launchHook ?? "none")"
        let group = await groupAndSource(settings: settings, instance: .unknown, allowAPI: allowAPI, logger: logger)
        let unknown =
            allowAPI
            ? "unknown (DescribeAutoScalingInstances failed)" : "unknown until an event (DescribeAutoScalingInstances)"
        lines.append(
            ("asg: \(hooks); group \(group.map { "\($0.group) (\($0.source))" } ?? unknown)", group == nil && allowAPI))
        do {
            _ = try await credentials.credentials(action: "status")
            lines.append(("asg: credentials: \(await credentials.source())", false))
        } catch {
            lines.append(("asg: \(error.message)", true))
        }
        if let region = await region(.unknown) {
            let endpoint = AutoScalingEndpoint.resolve(
                configured: endpointSetting, environment: environment, region: region)
            lines.append(("asg: region \(region), endpoint \(RedactedURL.redact(endpoint))", false))
        } else {
            lines.append(("asg: no region: set AWS_REGION or let imdswatch read the identity document", true))
        }
        return lines
    }

    private func identityDocument() async -> (instanceID: String, region: String)? {
        if let identity { return identity }
        guard let text = try? await metadata.text(MetadataPath.identityDocument),
            let document = try? JSONDocument.parse(text),
            let instanceID = document["instanceId"]?.stringValue, let region = document["region"]?.stringValue
        else { return nil }
        identity = (instanceID, region)
        return identity
    }
}
