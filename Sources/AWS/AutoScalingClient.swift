import Events
import HTTP
import IMDS
import Logging
import Retry
import SigV4

/// The instance's lifecycle action, as the Auto Scaling API names it.
package struct LifecycleActionTarget: Sendable, Equatable, Codable, CustomStringConvertible {
    /// `AutoScalingGroupName`.
    package var group: String
    /// `LifecycleHookName`.
    package var hook: String
    /// `InstanceId`.
    package var instanceID: String

    /// Creates a target.
    package init(group: String, hook: String, instanceID: String) {
        self.group = group
        self.hook = hook
        self.instanceID = instanceID
    }

    package var description: String { "group \(group), hook \(hook), instance \(instanceID)" }

    /// The request parameters naming this action.
    var parameters: [(String, String)] {
        [("AutoScalingGroupName", group), ("LifecycleHookName", hook), ("InstanceId", instanceID)]
    }
}

/// The Auto Scaling Query API (Version 2011-01-01): form-encoded POSTs over an ``HTTPTransport`` (libcurl),
/// SigV4-signed, XML answers. Throttling, 5xx, lost connections and expired credentials are retried with
/// exponential backoff and jitter; every other error is thrown at once.
package struct AutoScalingClient: Sendable {
    /// Where and how requests go.
    package struct Configuration: Sendable {
        /// The endpoint URL (see ``AutoScalingEndpoint/resolve(configured:environment:region:)``).
        package var endpoint: String
        /// The signing region.
        package var region: String
        /// The backoff between attempts (0.5 s doubling, at most 20 s, jittered) and the attempts of a call that has
        /// no deadline (5, the first included). Its jitter is replaced by the client's.
        package var retry: RetryPolicy
        /// Time allowed per request.
        package var timeout: Duration

        /// The schedule of every Auto Scaling call: heartbeats, the group lookup and the completion.
        package static let defaultRetry = RetryPolicy(
            maxAttempts: 5, baseDelay: .milliseconds(500), maxDelay: .seconds(20))

        /// Creates a configuration.
        package init(
            endpoint: String, region: String, retry: RetryPolicy = Configuration.defaultRetry,
            timeout: Duration = .seconds(10)
        ) {
            self.endpoint = endpoint
            self.region = region
            self.retry = retry
            self.retry.maxAttempts = max(1, retry.maxAttempts)
            self.timeout = timeout
        }
    }

    /// How long a call keeps trying after retryable failures (throttling, 5xx, no answer, expired credentials).
    package enum Persistence: Sendable {
        /// ``RetryPolicy/maxAttempts`` attempts.
        case attempts
        /// One attempt, no retry (at shutdown: a stop never waits on retries).
        case once
        /// Until the wall clock (Unix seconds, as `now`) reaches the deadline the closure gives (asked before each
        /// wait, so it may move), however many attempts that takes.
        case until(@Sendable () async -> Int64)
    }

    /// The API version sent with every request.
    package static let apiVersion = "2011-01-01"

    /// The configuration (its retry policy's jitter is the client's).
    package private(set) var configuration: Configuration
    private let transport: any HTTPTransport
    private let credentials: CredentialsProvider
    private let sleep: @Sendable (Duration) async throws -> Void
    private let now: @Sendable () -> Int64
    private let logger: Logger

    /// Creates a client.
    /// - Parameters:
    ///   - configuration: Endpoint, region, retry bounds.
    ///   - transport: How requests are sent (``CurlTransport`` in production).
    ///   - credentials: Where keys come from.
    ///   - sleep: Waits between attempts (a clock's `sleep(for:)`).
    ///   - jitter: Turns a backoff into the delay actually waited (production: uniform in 0...backoff).
    ///   - now: The wall clock in Unix seconds (for `X-Amz-Date`).
    ///   - logger: Receives retry lines (never keys, tokens or signatures).
    package init(
        configuration: Configuration,
        transport: any HTTPTransport,
        credentials: CredentialsProvider,
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        jitter: @escaping @Sendable (Duration) -> Duration = AutoScalingClient.fullJitter,
        now: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.configuration = configuration
        self.configuration.retry.jitter = jitter
        self.transport = transport
        self.credentials = credentials
        self.sleep = sleep
        self.now = now
        self.logger = logger
    }

    /// Full jitter: a uniformly random delay between zero and the backoff (the IMDS client's, ``RetryPolicy/fullJitter``).
    package static let fullJitter: @Sendable (Duration) -> Duration = RetryPolicy.fullJitter

    /// `RecordLifecycleActionHeartbeat`.
    /// - Throws: ``AutoScalingError`` after the retries (or at once when not retryable).
    package func recordHeartbeat(_ target: LifecycleActionTarget) async throws(AutoScalingError) {
        _ = try await call("RecordLifecycleActionHeartbeat", target.parameters)
    }

    /// `CompleteLifecycleAction`.
    /// - Parameter persistence: How long to keep trying.
    /// - Throws: ``AutoScalingError`` after the retries (or at once when not retryable).
    package func complete(
        _ target: LifecycleActionTarget, result: LifecycleActionResult, persistence: Persistence = .attempts
    ) async throws(AutoScalingError) {
        _ = try await call(
            "CompleteLifecycleAction", target.parameters + [("LifecycleActionResult", result.rawValue)],
            persistence: persistence)
    }

    /// `DescribeAutoScalingInstances` for one instance.
    /// - Parameter persistence: How long to keep trying.
    /// - Returns: Its group's name, or `nil` when the instance is in no group.
    /// - Throws: ``AutoScalingError``.
    package func groupName(ofInstance instanceID: String, persistence: Persistence = .attempts)
        async throws(AutoScalingError) -> String?
    {
        let answer = try await call(
            "DescribeAutoScalingInstances", [("InstanceIds.member.1", instanceID)], persistence: persistence)
        return answer.descendant("AutoScalingInstances")?.child("member")?.child("AutoScalingGroupName")?.text
    }

    /// What `DescribeLifecycleHooks` says of one hook.
    package struct HookDescription: Sendable, Equatable {
        /// `HeartbeatTimeout`, in seconds: the action times out this long after it started or after its last heartbeat.
        package var heartbeatTimeoutSeconds: Int64
        /// `DefaultResult`: what the group applies at the timeout (`CONTINUE` or `ABANDON`).
        package var defaultResult: String
    }

    /// `DescribeLifecycleHooks` for one hook of one group.
    /// - Returns: Its timeout and default result, or `nil` when the group has no such hook.
    /// - Throws: ``AutoScalingError``.
    package func describeHook(group: String, hook: String) async throws(AutoScalingError) -> HookDescription? {
        let answer = try await call(
            "DescribeLifecycleHooks", [("AutoScalingGroupName", group), ("LifecycleHookNames.member.1", hook)])
        guard let member = answer.descendant("LifecycleHooks")?.child("member"),
            let timeout = member.child("HeartbeatTimeout").flatMap({ Int64($0.text) })
        else { return nil }
        return HookDescription(
            heartbeatTimeoutSeconds: timeout, defaultResult: member.child("DefaultResult")?.text ?? "its DefaultResult")
    }

    /// The form body of a call (what `--dry-run` logs).
    package static func formBody(_ action: String, _ parameters: [(String, String)]) -> String {
        SigV4Signer.formEncode([("Action", action), ("Version", apiVersion)] + parameters)
    }

    /// One API call with retries: backoff from ``Configuration/retry``, for as long as `persistence` says.
    /// Cancellation ends it at once (the in-flight request included) with the last error.
    /// - Returns: The answer document.
    /// - Throws: ``AutoScalingError``.
    package func call(_ action: String, _ parameters: [(String, String)], persistence: Persistence = .attempts)
        async throws(AutoScalingError) -> XMLTree
    {
        let policy = configuration.retry
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await attemptOnce(action, parameters)
            } catch {
                if error.code == .expiredToken { await credentials.invalidate() }
                guard error.isRetryable, !Task.isCancelled else { throw error }
                let delay = policy.delay(beforeRetry: attempt)
                let of: String
                switch persistence {
                case .once:
                    throw error
                case .attempts:
                    guard attempt < policy.maxAttempts else { throw error }
                    of = " of \(policy.maxAttempts)"
                case .until(let deadline):
                    let remaining = await deadline() - now()
                    guard Duration.seconds(remaining) > delay else { throw error }
                    of = ", until \(remaining) s from now"
                }
                // The first retries are worth a line each; a long outage at the cap is one line a minute or so.
                let level: Logger.Level = attempt < policy.maxAttempts || attempt % 4 == 0 ? .notice : .debug
                logger.log(
                    level: level,
                    "\(action): \(error.awsCode ?? error.code.rawValue), retrying in \(delay) (attempt \(attempt + 1)\(of))"
                )
                let last = error
                do { try await sleep(delay) } catch { throw last }
            }
        }
    }

    private func attemptOnce(_ action: String, _ parameters: [(String, String)]) async throws(AutoScalingError)
        -> XMLTree
    {
        let keys = try await credentials.credentials(action: action)
        let secrets = [keys.secretAccessKey, keys.sessionToken].compactMap(\.self)
        let body = Array(Self.formBody(action, parameters).utf8)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        let signer = SigV4Signer(region: configuration.region, service: "autoscaling")
        let request = SigV4Request(
            method: "POST", url: configuration.endpoint, headers: [("Content-Type", contentType)], body: body)
        let signed = signer.sign(request, credentials: keys, amzDate: SigV4Signer.amzDate(epochSeconds: now()))
        let http = HTTPRequest(
            method: .post,
            url: configuration.endpoint,
            headers: [HTTPHeader("Content-Type", contentType)] + signed.map { HTTPHeader($0.name, $0.value) },
            body: body,
            connectTimeout: min(.seconds(5), configuration.timeout),
            totalTimeout: configuration.timeout
        )
        let response: HTTPResponse
        do { response = try await transport.send(http) } catch {
            throw AutoScalingError(
                code: .transport, action: action, message: ServerText.excerpt(error.description, secrets: secrets),
                underlying: error)
        }
        guard (200..<300).contains(response.status) else {
            throw AutoScalingError.fromAnswer(
                status: response.status, body: response.body, action: action, secrets: secrets)
        }
        let tree: XMLTree
        do { tree = try XMLTree.parse(response.body) } catch {
            throw AutoScalingError(
                code: .malformedResponse, action: action, status: response.status,
                message: "\(error.description): \(ServerText.excerpt(response.body, secrets: secrets, limit: 200))")
        }
        guard tree.name == "\(action)Response" else {
            throw AutoScalingError(
                code: .malformedResponse, action: action, status: response.status,
                message: "expected <\(action)Response>, got <\(tree.name)>")
        }
        return tree
    }
}

/// Where the Auto Scaling API is.
package enum AutoScalingEndpoint {
    /// The endpoint: `[asg] endpoint`, else `$AWS_ENDPOINT_URL_AUTO_SCALING`, else `$AWS_ENDPOINT_URL`, else
    /// `https://autoscaling.REGION.amazonaws.com` (`.com.cn` in China regions).
    /// - Returns: The URL, ending in `/` when it has no path.
    package static func resolve(configured: String?, environment: [String: String], region: String) -> String {
        let candidates = [configured, environment["AWS_ENDPOINT_URL_AUTO_SCALING"], environment["AWS_ENDPOINT_URL"]]
        if let chosen = candidates.compactMap(\.self).first(where: { !$0.isEmpty }) {
            let afterScheme = chosen.firstRange(of: "://").map { chosen[$0.upperBound...] } ?? Substring(chosen)
            return afterScheme.contains("/") ? chosen : chosen + "/"
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return "https://autoscaling.\(region).\(suffix)/"
    }

    /// The region: `AWS_REGION` (else `AWS_DEFAULT_REGION`) when set, else the identity document's.
    package static func region(environment: [String: String], identityRegion: String?) -> String? {
        for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[key], !value.isEmpty { return value }
        }
        return identityRegion.flatMap { $0.isEmpty ? nil : $0 }
    }
}
