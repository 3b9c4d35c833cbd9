import HTTP

/// Why an Auto Scaling API call did not succeed.
package struct AutoScalingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure.
    package enum Code: String, Sendable, Equatable {
        /// `Throttling` (400 or 429): retried with backoff.
        case throttled
        /// A 5xx answer (`InternalFailure`, `ServiceUnavailable`): retried with backoff.
        case serverError
        /// `AccessDenied` or `UnauthorizedOperation`: an IAM permission is missing.
        case accessDenied
        /// `ExpiredToken` (or `RequestExpired`): the credentials must be fetched again.
        case expiredToken
        /// `ValidationError` "No active Lifecycle Action found": the action is gone (completed, or timed out).
        case noActiveLifecycleAction
        /// Any other error answer (`ValidationError`, `InvalidClientTokenId`, `SignatureDoesNotMatch`…).
        case rejected
        /// No answer: connection, timeout, TLS (retried with backoff).
        case transport
        /// An answer that is not the expected XML.
        case malformedResponse
        /// No credentials could be found (environment or instance profile).
        case noCredentials
        /// No region is known (identity document unreadable and no `AWS_REGION`).
        case noRegion
        /// The endpoint is refused (plain `http://` to a host that is not loopback).
        case insecureEndpoint
    }

    /// The kind of failure.
    package var code: Code
    /// The API action (`CompleteLifecycleAction`).
    package var action: String
    /// The HTTP status, when there was an answer.
    package var status: Int?
    /// The AWS error code (`Throttling`), when the answer had one.
    package var awsCode: String?
    /// The service's message (cut and scrubbed by ``ServerText``) or the
    /// local cause; never contains credentials. Empty when the answer had no error document.
    package var message: String
    /// The transport failure, when there was no answer.
    package var underlying: HTTPError?

    /// Creates an error.
    package init(
        code: Code, action: String, status: Int? = nil, awsCode: String? = nil, message: String,
        underlying: HTTPError? = nil
    ) {
        self.code = code
        self.action = action
        self.status = status
        self.awsCode = awsCode
        self.message = message
        self.underlying = underlying
    }

    /// Whether another attempt may succeed (throttling, 5xx, no answer, expired credentials).
    package var isRetryable: Bool {
        switch code {
        case .throttled, .serverError, .transport, .expiredToken: true
        default: false
        }
    }

    /// The IAM permission an `accessDenied` is about: `autoscaling:ACTION`.
    package var missingPermission: String { "autoscaling:\(action)" }

    /// Whether the service rejected the credentials themselves (wrong secret, unknown key, expired or missing
    /// token), as opposed to the request.
    package var isCredentialsProblem: Bool {
        switch code {
        case .noCredentials, .expiredToken: return true
        case .rejected:
            return [
                "SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature", "MissingAuthenticationToken",
                "UnrecognizedClientException", "InvalidSignatureException", "AuthFailure",
            ].contains(awsCode ?? "")
        default: return false
        }
    }

    package var description: String {
        switch code {
        case .accessDenied:
            "\(action): access denied (\(awsCode ?? "AccessDenied")): the instance's role lacks the IAM permission \(missingPermission)"
        case .noCredentials, .noRegion, .insecureEndpoint:
            message
        default:
            switch (status, awsCode, message.isEmpty) {
            case (let status?, nil, true): "\(action) failed: HTTP \(status) without an error document"
            case (_, _, true):
                "\(action) failed: \([status.map { "HTTP \($0)" }, awsCode].compactMap(\.self).joined(separator: " "))"
            case (nil, nil, false): "\(action) failed: \(message)"
            default:
                "\(action) failed: \([status.map { "HTTP \($0)" }, awsCode].compactMap(\.self).joined(separator: " ")): \(message)"
            }
        }
    }

    /// Classifies an error answer of the Query API.
    /// - Parameters:
    ///   - status: The HTTP status (not 2xx).
    ///   - body: The body, normally an `ErrorResponse` document.
    ///   - action: The API action.
    ///   - secrets: The credentials the request was signed with: scrubbed from the message (a
    ///     `SignatureDoesNotMatch` may echo the canonical request, session token included).
    /// - Returns: The error; a body that is not an `ErrorResponse` still gives an error from the status alone.
    package static func fromAnswer(status: Int, body: [UInt8], action: String, secrets: [String] = [])
        -> AutoScalingError
    {
        let tree = try? XMLTree.parse(body)
        let awsCode = (tree?.descendant("Error")?.child("Code")?.text).map {
            ServerText.excerpt($0, secrets: secrets, limit: 64)
        }
        let rawMessage = tree?.descendant("Error")?.child("Message")?.text ?? ""
        let message = ServerText.excerpt(rawMessage, secrets: secrets)
        let code: Code =
            switch awsCode {
            case "Throttling", "ThrottlingException", "RequestLimitExceeded": .throttled
            case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation": .accessDenied
            case "ExpiredToken", "ExpiredTokenException", "RequestExpired": .expiredToken
            case "ValidationError" where rawMessage.contains("No active Lifecycle Action found"):
                .noActiveLifecycleAction
            case _ where status == 429: .throttled
            case _ where status >= 500: .serverError
            default: .rejected
            }
        return AutoScalingError(code: code, action: action, status: status, awsCode: awsCode, message: message)
    }
}
