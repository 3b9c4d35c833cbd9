public import Events
public import HTTP
import IMDS
public import Logging
import SigV4

/// The instance's lifecycle action, as the Auto Scaling API names it.
public struct LifecycleActionTarget: Sendable, Equatable, Codable, CustomStringConvertible {
    /// `AutoScalingGroupName`.
    public var group: String
    /// `LifecycleHookName`.
    public var hook: String
    /// `InstanceId`.
    public var instanceID: String

    /// Creates a target.
    public init(group: String, hook: String, instanceID: String) {
        self.group = group
        self.hook = hook
        self.instanceID = instanceID
    }

    public var description: String { "group \(group), hook \(hook), instance \(instanceID)" }

    /// The request parameters naming this action.
    var parameters: [(String, String)] {
        [("AutoScalingGroupName", group), ("LifecycleHookName", hook), ("InstanceId", instanceID)]
    }
}

/// The Auto Scaling Query API (Version 2011-01-01): form-encoded POSTs over an ``HTTPTransport`` (libcurl),
/// SigV4-signed, XML answers. Throttling, 5xx, lost connections and expired credentials are retried with
/// exponential backoff and jitter; every other error is thrown at once.
public struct AutoScalingClient: Sendable {
    /// Where and how requests go.
    public struct Configuration: Sendable {
        /// The endpoint URL (see ``AutoScalingEndpoint/resolve(configured:environment:region:)``).
        public var endpoint: String
        /// The signing region.
        public var region: String
        /// Attempts per call, the first included.
        public var maxAttempts: Int
        /// The backoff before the first retry (doubling, capped at ``maxDelay``, then jittered).
        public var baseDelay: Duration
        /// The largest backoff.
        public var maxDelay: Duration
        /// Time allowed per request.
        public var timeout: Duration

        /// Creates a configuration.
        public init(
            endpoint: String, region: String, maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500),
            maxDelay: Duration = .seconds(20), timeout: Duration = .seconds(10)
        ) {
            self.endpoint = endpoint
            self.region = region
            self.maxAttempts = max(1, maxAttempts)
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.timeout = timeout
        }
    }

    /// The API version sent with every request.
    public static let apiVersion = "2011-01-01"

    /// The configuration.
    public let configuration: Configuration
    private let transport: any HTTPTransport
    private let credentials: CredentialsProvider
    private let sleep: @Sendable (Duration) async throws -> Void
    private let jitter: @Sendable (Duration) -> Duration
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
    public init(
        configuration: Configuration,
        transport: any HTTPTransport,
        credentials: CredentialsProvider,
        sleep: @escaping @Sendable (Duration) async throws -> Void,
        jitter: @escaping @Sendable (Duration) -> Duration = AutoScalingClient.fullJitter,
        now: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.configuration = configuration
        self.transport = transport
        self.credentials = credentials
        self.sleep = sleep
        self.jitter = jitter
        self.now = now
        self.logger = logger
    }

    /// Full jitter: a uniformly random delay between zero and the backoff (the IMDS client's, ``RetryPolicy/fullJitter``).
    public static let fullJitter: @Sendable (Duration) -> Duration = RetryPolicy.fullJitter

    /// `RecordLifecycleActionHeartbeat`.
    /// - Throws: ``AutoScalingError`` after the retries (or at once when not retryable).
    public func recordHeartbeat(_ target: LifecycleActionTarget) async throws(AutoScalingError) {
        _ = try await call("RecordLifecycleActionHeartbeat", target.parameters)
    }

    /// `CompleteLifecycleAction`.
    /// - Throws: ``AutoScalingError`` after the retries (or at once when not retryable).
    public func complete(_ target: LifecycleActionTarget, result: LifecycleActionResult) async throws(AutoScalingError) {
        _ = try await call("CompleteLifecycleAction", target.parameters + [("LifecycleActionResult", result.rawValue)])
    }

    /// `DescribeAutoScalingInstances` for one instance.
    /// - Returns: Its group's name, or `nil` when the instance is in no group.
    /// - Throws: ``AutoScalingError``.
    public func groupName(ofInstance instanceID: String) async throws(AutoScalingError) -> String? {
        let answer = try await call("DescribeAutoScalingInstances", [("InstanceIds.member.1", instanceID)])
        return answer.descendant("AutoScalingInstances")?.child("member")?.child("AutoScalingGroupName")?.text
    }

    /// The form body of a call (what `--dry-run` logs).
    public static func formBody(_ action: String, _ parameters: [(String, String)]) -> String {
        SigV4Signer.formEncode([("Action", action), ("Version", apiVersion)] + parameters)
    }

    /// One API call with retries.
    /// - Returns: The answer document.
    /// - Throws: ``AutoScalingError``.
    public func call(_ action: String, _ parameters: [(String, String)]) async throws(AutoScalingError) -> XMLTree {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await attemptOnce(action, parameters)
            } catch {
                if error.code == .expiredToken { await credentials.invalidate() }
                guard error.isRetryable, attempt < configuration.maxAttempts, !Task.isCancelled else { throw error }
                let backoff = min(configuration.maxDelay, configuration.baseDelay * (1 << min(attempt - 1, 20)))
                let delay = jitter(backoff)
                logger.notice("\(action): \(error.awsCode ?? error.code.rawValue), retrying in \(delay) (attempt \(attempt + 1) of \(configuration.maxAttempts))")
                do { try await sleep(delay) } catch { throw AutoScalingError(code: .transport, action: action, message: "cancelled") }
            }
        }
    }

    private func attemptOnce(_ action: String, _ parameters: [(String, String)]) async throws(AutoScalingError) -> XMLTree {
        let keys = try await credentials.credentials(action: action)
        let body = Array(Self.formBody(action, parameters).utf8)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        let signer = SigV4Signer(region: configuration.region, service: "autoscaling")
        let request = SigV4Request(method: "POST", url: configuration.endpoint, headers: [("Content-Type", contentType)], body: body)
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
            throw AutoScalingError(code: .transport, action: action, message: error.description, underlying: error)
        }
        guard (200..<300).contains(response.status) else {
            throw AutoScalingError.fromAnswer(status: response.status, body: response.body, action: action)
        }
        let tree: XMLTree
        do { tree = try XMLTree.parse(response.body) } catch {
            throw AutoScalingError(code: .malformedResponse, action: action, status: response.status, message: error.description)
        }
        guard tree.name == "\(action)Response" else {
            throw AutoScalingError(code: .malformedResponse, action: action, status: response.status, message: "expected <\(action)Response>, got <\(tree.name)>")
        }
        return tree
    }
}

/// Where the Auto Scaling API is.
public enum AutoScalingEndpoint {
    /// The endpoint: `[asg] endpoint`, else `$AWS_ENDPOINT_URL_AUTO_SCALING`, else `$AWS_ENDPOINT_URL`, else
    /// `https://autoscaling.REGION.amazonaws.com` (`.com.cn` in China regions).
    /// - Returns: The URL, ending in `/` when it has no path.
    public static func resolve(configured: String?, environment: [String: String], region: String) -> String {
        let candidates = [configured, environment["AWS_ENDPOINT_URL_AUTO_SCALING"], environment["AWS_ENDPOINT_URL"]]
        if let chosen = candidates.compactMap(\.self).first(where: { !$0.isEmpty }) {
            let afterScheme = chosen.firstRange(of: "://").map { chosen[$0.upperBound...] } ?? Substring(chosen)
            return afterScheme.contains("/") ? chosen : chosen + "/"
        }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return "https://autoscaling.\(region).\(suffix)/"
    }

    /// The region: `AWS_REGION` (else `AWS_DEFAULT_REGION`) when set, else the identity document's.
    public static func region(environment: [String: String], identityRegion: String?) -> String? {
        for key in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[key], !value.isEmpty { return value }
        }
        return identityRegion.flatMap { $0.isEmpty ? nil : $0 }
    }
}
