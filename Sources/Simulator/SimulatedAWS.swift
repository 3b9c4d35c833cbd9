import Events
import Foundation
import NIOHTTP1
import SigV4
import Synchronization

/// The simulated AWS side: the instance profile's rotating temporary credentials (served under
/// `meta-data/iam/`), and the state of the Auto Scaling endpoint (`/autoscaling/` on the simulator's listener):
/// the calls it received, completed lifecycle actions and injected errors.
///
/// Control API: `GET /_sim/aws` (role, credentials' access key ids, calls with their raw requests, faults),
/// `POST /_sim/aws/faults` `{"action": "RecordLifecycleActionHeartbeat" | "*", "code": "Throttling", "count": 1}`,
/// `DELETE /_sim/aws/faults`, `POST /_sim/aws/rotate` (new credentials now), `POST /_sim/aws/config`
/// `{"rotation_seconds": 300, "group": "NAME"}`, `DELETE /_sim/aws/calls`.
final class SimulatedAWS: Sendable {
    /// One set of temporary credentials the simulated instance profile handed out.
    struct Issued: Sendable {
        var credentials: AWSCredentials
        var issuedAt: Date
        var expiration: Date
    }

    /// One request the Auto Scaling endpoint received, as received, and how it was answered.
    struct Call: Sendable {
        var action: String
        var parameters: [(String, String)]
        var receivedAt: Date
        var accessKeyID: String
        var status: Int
        var errorCode: String?
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: String
    }

    /// An error the endpoint answers instead of performing the action, a delay before the answer, or both.
    struct Fault: Sendable {
        var action: String
        /// The AWS error code answered; `nil`: the action is performed (after the delay).
        var code: String?
        /// Seconds the answer is held.
        var delaySeconds: Double = 0
        var count: Int?
    }

    private struct State: Sendable {
        var issued: [Issued] = []
        var rotationSeconds: Double = 300
        var group: String?
        var calls: [Call] = []
        var faults: [Fault] = []
        var completed: Set<String> = []
    }

    /// The `HeartbeatTimeout` `DescribeLifecycleHooks` reports for every hook (AWS's default).
    static let heartbeatTimeoutSeconds = 3600

    /// The group when neither the control API nor the tag `aws:autoscaling:groupName` names one.
    static let defaultGroup = "imdswatch-simulator-asg"

    private let state = Mutex(State())

    /// The credentials valid now, issuing new ones when the current ones are `rotationSeconds` old. They expire
    /// 10 minutes after the next rotation, as the real service's outlive their replacement.
    func currentCredentials(now: Date = Date()) -> Issued {
        state.withLock { state in
            if let last = state.issued.last, now.timeIntervalSince(last.issuedAt) < state.rotationSeconds {
                return last
            }
            let issued = Issued(
                credentials: AWSCredentials(
                    accessKeyID: "ASIA" + Self.random(16, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
                    secretAccessKey: Self.random(
                        40, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
                    sessionToken: "IQoJb3JpZ2luX2VjE"
                        + Self.random(120, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                ),
                issuedAt: now,
                expiration: now.addingTimeInterval(state.rotationSeconds + 600)
            )
            state.issued = Array((state.issued + [issued]).suffix(50))
            return issued
        }
    }

    /// The issued credentials with this access key id, if any.
    func issued(accessKeyID: String) -> Issued? {
        state.withLock { $0.issued.first { $0.credentials.accessKeyID == accessKeyID } }
    }

    /// The group the instance belongs to.
    func group(tags: [InstanceTag]) -> String {
        state.withLock { $0.group } ?? tags.first { $0.key == "aws:autoscaling:groupName" }?.value ?? Self.defaultGroup
    }

    /// Takes the first fault for `action`, counting this use.
    func takeFault(for action: String) -> Fault? {
        state.withLock { state in
            guard let index = state.faults.firstIndex(where: { $0.action == action || $0.action == "*" }) else {
                return nil
            }
            let fault = state.faults[index]
            if let count = state.faults[index].count {
                if count <= 1 { state.faults.remove(at: index) } else { state.faults[index].count = count - 1 }
            }
            return fault
        }
    }

    /// Records a call.
    func record(_ call: Call) {
        state.withLock { $0.calls.append(call) }
    }

    /// Marks a lifecycle action completed; `false` when it already was (it is no longer active).
    func complete(_ key: String) -> Bool {
        state.withLock { $0.completed.insert(key).inserted }
    }

    /// Whether a lifecycle action was completed.
    func isCompleted(_ key: String) -> Bool {
        state.withLock { $0.completed.contains(key) }
    }

    // MARK: - IMDS paths

    /// The answer for `meta-data/iam/…`, or `nil` for other paths.
    func metadataAnswer(components: [String], ttlHeaders: [(String, String)], accountID: String, role: String?)
        -> SimulatorResponse?
    {
        guard let role, components.count >= 2, components[0] == "meta-data", components[1] == "iam" else { return nil }
        let rest = Array(components.dropFirst(2))
        let current = currentCredentials()
        let updated = Timestamp.rfc3339(seconds: current.issuedAt.epochSeconds)
        switch rest {
        case []:
            return .text(.ok, "info\nsecurity-credentials/", headers: ttlHeaders)
        case ["info"]:
            // Laid out as the real service serves it (two-space indent, `" : "`), like the rest of the tree.
            let body = JSONBody.object([
                ("Code", .string("Success")), ("LastUpdated", .string(updated)),
                ("InstanceProfileArn", .string("arn:aws:iam::\(accountID):instance-profile/\(role)")),
                ("InstanceProfileId", .string("AIPAIMDSWATCHSIMULATOR")),
            ])
            return .text(.ok, body.rendered(.realPretty), headers: ttlHeaders)
        case ["security-credentials"]:
            return .text(.ok, role, headers: ttlHeaders)
        case ["security-credentials", role]:
            let body = JSONBody.object([
                ("Code", .string("Success")), ("LastUpdated", .string(updated)), ("Type", .string("AWS-HMAC")),
                ("AccessKeyId", .string(current.credentials.accessKeyID)),
                ("SecretAccessKey", .string(current.credentials.secretAccessKey)),
                ("Token", .string(current.credentials.sessionToken ?? "")),
                ("Expiration", .string(Timestamp.rfc3339(seconds: current.expiration.epochSeconds))),
            ])
            return .text(.ok, body.rendered(.realPretty), headers: ttlHeaders)
        default:
            return .errorPage(.notFound, headers: ttlHeaders)
        }
    }

    // MARK: - Control API

    /// Answers `/_sim/aws…`, or `nil` for other control paths.
    func control(method: HTTPMethod, uri: String, body: [UInt8]) -> SimulatorResponse? {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        guard path == "/_sim/aws" || path.hasPrefix("/_sim/aws/") else { return nil }
        let route = path.dropFirst("/_sim/aws".count)
        let input = (try? JSONDocument.parse(String(decoding: body, as: UTF8.self))) ?? .null
        switch (route, method) {
        case ("", .GET):
            return .json(.ok, snapshot().serialized())
        case ("/faults", .POST):
            var delay: Double = 0
            if case .number(let seconds)? = input["delay"], seconds >= 0, seconds <= 600 { delay = seconds }
            let code = input["code"]?.stringValue
            guard let action = input["action"]?.stringValue, code != nil || delay > 0 else {
                return .controlError(
                    .badRequest,
                    "expected {\"action\": NAME or \"*\", \"code\": AWS error code and/or \"delay\": seconds (0-600), \"count\": N or null}"
                )
            }
            var count: Int?
            if case .number(let number)? = input["count"] { count = Int(number) }
            state.withLock { $0.faults.append(Fault(action: action, code: code, delaySeconds: delay, count: count)) }
            return .json(.ok, snapshot().serialized())
        case ("/faults", .DELETE):
            state.withLock { $0.faults.removeAll() }
            return .json(.ok, snapshot().serialized())
        case ("/calls", .DELETE):
            state.withLock {
                $0.calls.removeAll()
                $0.completed.removeAll()
            }
            return .json(.ok, snapshot().serialized())
        case ("/rotate", .POST):
            state.withLock { state in
                if let last = state.issued.indices.last { state.issued[last].issuedAt = .distantPast }
            }
            _ = currentCredentials()
            return .json(.ok, snapshot().serialized())
        case ("/config", .POST):
            if case .number(let seconds)? = input["rotation_seconds"], seconds > 0 {
                state.withLock { $0.rotationSeconds = seconds }
            }
            if let group = input["group"]?.stringValue { state.withLock { $0.group = group } }
            return .json(.ok, snapshot().serialized())
        default:
            return .controlError(.notFound, "unknown control path \(path) for \(method)")
        }
    }

    private func snapshot() -> JSONValue {
        state.withLock { state in
            [
                "rotation_seconds": .number(state.rotationSeconds),
                "access_key_ids": .array(state.issued.map { .string($0.credentials.accessKeyID) }),
                "faults": .array(
                    state.faults.map {
                        [
                            "action": .string($0.action), "code": $0.code.map(JSONValue.string) ?? .null,
                            "delay": .number($0.delaySeconds), "count": $0.count.map { .number(Double($0)) } ?? .null,
                        ]
                    }),
                "calls": .array(
                    state.calls.map { call in
                        [
                            "action": .string(call.action),
                            "parameters": .object(call.parameters.map { ($0.0, .string($0.1)) }),
                            "received_at_ms": .number((call.receivedAt.timeIntervalSince1970 * 1000).rounded()),
                            "access_key_id": .string(call.accessKeyID),
                            "status": .number(Double(call.status)),
                            "error_code": .string(orNull: call.errorCode),
                            "request": [
                                "method": .string(call.method), "path": .string(call.path),
                                "headers": .array(call.headers.map { [.string($0.0), .string($0.1)] }),
                                "body": .string(call.body),
                            ],
                        ]
                    }),
            ]
        }
    }

    private static func random(_ count: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in characters[Int.random(in: 0..<characters.count, using: &generator)] })
    }
}
