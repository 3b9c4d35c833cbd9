import Events
import IMDS
import SigV4

/// Where credentials come from, for `status` and the start line.
package enum CredentialsSource: Sendable, Equatable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`).
    case environment
    /// The instance profile's role, from IMDS.
    case instanceProfile(role: String)
    /// Nothing found.
    case none

    package var description: String {
        switch self {
        case .environment: "environment"
        case .instanceProfile(let role): "instance profile \(role)"
        case .none: "none"
        }
    }
}

/// Finds credentials: the environment's when set, else the instance profile's from IMDS, cached and refreshed
/// ``refreshMargin`` before they expire (or at once after ``invalidate()``, on an `ExpiredToken` answer).
package actor CredentialsProvider {
    private struct Cached {
        let credentials: AWSCredentials
        let role: String
        let expiresAt: Int64
    }

    /// How long before `Expiration` cached instance-profile credentials are fetched again (SDKs: 5–15 min).
    package static let refreshMargin: Int64 = 10 * 60

    private let environment: [String: String]
    private let metadata: any MetadataReader
    private let now: @Sendable () -> Int64
    private let warn: @Sendable (String) -> Void
    private var cached: Cached?
    /// The `Expiration` already warned about (one warning per set of credentials).
    private var warnedExpiration: Int64?

    /// Creates a provider.
    /// - Parameters:
    ///   - environment: The process environment (`AWS_ACCESS_KEY_ID`…).
    ///   - metadata: Reads IMDS paths (`meta-data/iam/security-credentials/`).
    ///   - now: The wall clock, in Unix seconds (compared with `Expiration`).
    ///   - warn: Receives the warning about instance-profile credentials whose `Expiration` has already passed.
    package init(
        environment: [String: String], metadata: any MetadataReader, now: @escaping @Sendable () -> Int64,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.environment = environment
        self.metadata = metadata
        self.now = now
        self.warn = warn
    }

    /// The credentials from the environment, when both keys are set and non-empty.
    package nonisolated var environmentCredentials: AWSCredentials? {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }

    /// Drops cached instance-profile credentials (after `ExpiredToken`), so that the next call fetches them.
    package func invalidate() {
        cached = nil
    }

    /// Where credentials come from right now (reads IMDS when none are cached).
    /// - Returns: The source; ``CredentialsSource/none`` when none can be found (the reason is not thrown).
    package func source() async -> CredentialsSource {
        if environmentCredentials != nil { return .environment }
        do {
            _ = try await credentials(action: "status")
            return cached.map { .instanceProfile(role: $0.role) } ?? .none
        } catch {
            return .none
        }
    }

    /// Current credentials.
    /// - Parameter action: The API action they are for (named in errors).
    /// - Returns: The environment's credentials, or the instance profile's (fetched when absent or near expiry).
    /// - Throws: ``AutoScalingError`` with code `noCredentials` saying why none could be found.
    ///   A value with a line break or another control character is refused (it would end the header it is sent in).
    ///   Instance-profile credentials whose `Expiration` has passed are used (the service decides), with one warning.
    package func credentials(action: String) async throws(AutoScalingError) -> AWSCredentials {
        if let fromEnvironment = environmentCredentials {
            for (name, value) in [
                ("AWS_ACCESS_KEY_ID", fromEnvironment.accessKeyID),
                ("AWS_SECRET_ACCESS_KEY", fromEnvironment.secretAccessKey),
                ("AWS_SESSION_TOKEN", fromEnvironment.sessionToken ?? ""),
            ] where Self.hasControlCharacter(value) {
                throw AutoScalingError(
                    code: .noCredentials, action: action,
                    message: "no AWS credentials: \(name) contains a line break or another control character: refused")
            }
            return fromEnvironment
        }
        if let cached, now() < cached.expiresAt - Self.refreshMargin { return cached.credentials }
        let fetched = try await fetch(action: action)
        cached = fetched
        if fetched.expiresAt <= now(), warnedExpiration != fetched.expiresAt {
            warnedExpiration = fetched.expiresAt
            warn(
                "the instance profile's credentials (role \(fetched.role)) expired at \(Timestamp.rfc3339(seconds: fetched.expiresAt)) (IMDS serves stale credentials): using them anyway; the service may answer ExpiredToken"
            )
        }
        return fetched.credentials
    }

    private static func hasControlCharacter(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    private func fetch(action: String) async throws(AutoScalingError) -> Cached {
        func failure(_ message: String) -> AutoScalingError {
            AutoScalingError(code: .noCredentials, action: action, message: "no AWS credentials: \(message)")
        }
        let roles = MetadataPath.iamSecurityCredentials
        let listing: String?
        do { listing = try await metadata.text(roles) } catch {
            throw failure("cannot read \(roles) from IMDS: \(error)")
        }
        guard let listing else {
            throw failure(
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and the instance has no instance profile")
        }
        guard let role = listing.split(whereSeparator: \.isNewline).first.map({ String($0).trimmingSlash }),
            !role.isEmpty
        else {
            throw failure("\(roles) lists no role")
        }
        let path = roles + role
        let body: String?
        do { body = try await metadata.text(path) } catch { throw failure("cannot read \(path): \(error)") }
        guard let body else { throw failure("\(path) is absent") }
        guard let document = try? JSONDocument.parse(body), case .object = document else {
            throw failure("\(path) is not a JSON object")
        }
        func field(_ name: String) -> String? { document[name]?.stringValue }
        if let code = field("Code"), code != "Success" { throw failure("\(path) says Code \(code)") }
        guard let key = field("AccessKeyId"), let secret = field("SecretAccessKey"),
            let expiration = field("Expiration")
        else {
            throw failure("\(path) lacks AccessKeyId, SecretAccessKey or Expiration")
        }
        for name in ["AccessKeyId", "SecretAccessKey", "Token"] where Self.hasControlCharacter(field(name) ?? "") {
            throw failure("\(path): \(name) contains a line break or another control character: refused")
        }
        let expiresAt: Int64
        do { expiresAt = try IMDSDate.epochSeconds(expiration) } catch { throw failure("\(path): Expiration \(error)") }
        return Cached(
            credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: field("Token")),
            role: role,
            expiresAt: expiresAt
        )
    }
}

extension String {
    fileprivate var trimmingSlash: String { hasSuffix("/") ? String(dropLast()) : self }
}
