import Foundation
import NIOCore
import NIOHTTP1
import SigV4

/// The Auto Scaling Query API on the simulator's listener, under `/autoscaling/`: checks each request's SigV4
/// signature against the simulated instance profile's credentials (and their session token and expiry), records
/// it, and answers with the service's XML shapes and error codes (`Throttling`, `AccessDenied`, `ExpiredToken`,
/// `SignatureDoesNotMatch`, `InvalidClientTokenId`, `ValidationError`…). Faults come from the control API.
enum SimulatedAutoScalingAPI {
    /// The path prefix on the simulator's listener.
    static let pathPrefix = "/autoscaling"
    static let namespace = "http://autoscaling.amazonaws.com/doc/2011-01-01/"

    /// Whether `uri` is for this endpoint.
    static func handles(_ uri: String) -> Bool {
        uri == pathPrefix || uri.hasPrefix(pathPrefix + "/") || uri.hasPrefix(pathPrefix + "?")
    }

    /// The answer to one request (`nil` for the `Hang` fault: no answer ever, the client's timeout or cancellation
    /// ends it), and how long a delay fault holds it (seconds).
    static func respond(
        head: HTTPRequestHead, body: [UInt8], aws: SimulatedAWS, state: SimulatorState, now: Date = Date()
    ) -> (response: SimulatorResponse?, delaySeconds: Double) {
        let bodyText = String(decoding: body, as: UTF8.self)
        let parameters: [(String, String)] = bodyText.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                SigV4Signer.percentDecode(text.replacingOccurrences(of: "+", with: " "))
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
        func parameter(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }
        let action = parameter("Action") ?? ""
        var call = SimulatedAWS.Call(
            action: action, parameters: parameters.filter { $0.0 != "Action" && $0.0 != "Version" }, receivedAt: now,
            accessKeyID: "", status: 200, errorCode: nil, method: head.method.rawValue, path: head.uri,
            headers: head.headers.map { ($0.name, $0.value) }, body: bodyText
        )
        var delay: Double = 0
        let response = answer(
            head: head, body: body, action: action, parameter: parameter, aws: aws, state: state, now: now, call: &call,
            delay: &delay)
        call.status = response.map { Int($0.status.code) } ?? 0
        aws.record(call)
        return (response, delay)
    }

    private static func answer(
        head: HTTPRequestHead, body: [UInt8], action: String, parameter: (String) -> String?, aws: SimulatedAWS,
        state: SimulatorState, now: Date, call: inout SimulatedAWS.Call, delay: inout Double
    ) -> SimulatorResponse? {
        func fail(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> SimulatorResponse {
            call.errorCode = code
            return error(status, code, message)
        }
        guard head.method == .POST else { return fail(.badRequest, "InvalidAction", "only POST is simulated") }
        if let problem = signatureProblem(head: head, body: body, aws: aws, now: now, call: &call) {
            return fail(problem.status, problem.code, problem.message)
        }
        guard parameter("Version") == "2011-01-01" else {
            return fail(.badRequest, "InvalidParameterValue", "Version must be 2011-01-01")
        }
        let fault = aws.takeFault(for: action)
        delay = fault?.delaySeconds ?? 0
        if let code = fault?.code {
            // Faults that are not error codes: no answer at all, a 5xx without an error document, a huge message.
            switch code {
            case "Hang":
                call.errorCode = code
                return nil
            case "InternalFailureWithoutDocument":
                call.errorCode = code
                return SimulatorResponse(
                    status: .internalServerError, headers: [("Content-Type", "text/plain")], body: ByteBuffer())
            case "HugeMessage":
                return fail(
                    .badRequest, "ValidationError", "simulated huge message " + String(repeating: "x", count: 900_000))
            default:
                break
            }
            let status: HTTPResponseStatus =
                switch code {
                case "AccessDenied", "UnauthorizedOperation", "ExpiredToken", "InvalidClientTokenId",
                    "SignatureDoesNotMatch":
                    .forbidden
                case "InternalFailure": .internalServerError
                case "ServiceUnavailable": .serviceUnavailable
                default: .badRequest
                }
            let message =
                code == "AccessDenied"
                ? "User: arn:aws:sts::\(state.accountId):assumed-role/\(state.iamRole ?? "none")/\(state.instanceId) is not authorized to perform: autoscaling:\(action) because no identity-based policy allows the autoscaling:\(action) action"
                : code == "Throttling" ? "Rate exceeded" : "simulated \(code)"
            return fail(status, code, message)
        }
        switch action {
        case "RecordLifecycleActionHeartbeat", "CompleteLifecycleAction":
            guard let group = parameter("AutoScalingGroupName"), let hook = parameter("LifecycleHookName"),
                let instance = parameter("InstanceId") ?? parameter("LifecycleActionToken")
            else {
                return fail(
                    .badRequest, "ValidationError",
                    "AutoScalingGroupName, LifecycleHookName and InstanceId are required")
            }
            let key = "\(group)|\(hook)|\(instance)"
            guard group == aws.group(tags: state.tags), instance == state.instanceId, !aws.isCompleted(key) else {
                return fail(
                    .badRequest, "ValidationError", "No active Lifecycle Action found with instance ID \(instance)")
            }
            if action == "CompleteLifecycleAction" {
                guard let result = parameter("LifecycleActionResult"), result == "CONTINUE" || result == "ABANDON"
                else {
                    return fail(.badRequest, "ValidationError", "LifecycleActionResult must be CONTINUE or ABANDON")
                }
                _ = aws.complete(key)
            }
            return ok(action, result: "")
        case "DescribeLifecycleHooks":
            guard parameter("AutoScalingGroupName") == aws.group(tags: state.tags),
                let hook = parameter("LifecycleHookNames.member.1")
            else {
                return ok(action, result: "<LifecycleHooks/>")
            }
            return ok(
                action,
                result: """
                    <LifecycleHooks><member><LifecycleHookName>\(escape(hook))</LifecycleHookName>\
                    <AutoScalingGroupName>\(escape(aws.group(tags: state.tags)))</AutoScalingGroupName>\
                    <LifecycleTransition>autoscaling:EC2_INSTANCE_TERMINATING</LifecycleTransition>\
                    <HeartbeatTimeout>\(SimulatedAWS.heartbeatTimeoutSeconds)</HeartbeatTimeout><GlobalTimeout>\(SimulatedAWS.heartbeatTimeoutSeconds * 100)</GlobalTimeout>\
                    <DefaultResult>ABANDON</DefaultResult></member></LifecycleHooks>
                    """)
        case "DescribeAutoScalingInstances":
            let requested = parameter("InstanceIds.member.1")
            let members =
                requested == state.instanceId
                ? """
                <member><AvailabilityZone>\(state.availabilityZone)</AvailabilityZone><LifecycleState>\(state.asgState ?? "InService")</LifecycleState>\
                <InstanceId>\(state.instanceId)</InstanceId><InstanceType>\(state.instanceType)</InstanceType>\
                <AutoScalingGroupName>\(escape(aws.group(tags: state.tags)))</AutoScalingGroupName><HealthStatus>HEALTHY</HealthStatus>\
                <ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>
                """ : ""
            return ok(action, result: "<AutoScalingInstances>\(members)</AutoScalingInstances>")
        default:
            return fail(.badRequest, "InvalidAction", "The action \(action) is not valid for this web service.")
        }
    }

    /// Checks the Authorization header, the credentials, the session token and the signature.
    private static func signatureProblem(
        head: HTTPRequestHead, body: [UInt8], aws: SimulatedAWS, now: Date, call: inout SimulatedAWS.Call
    ) -> (status: HTTPResponseStatus, code: String, message: String)? {
        guard let authorization = head.headers.first(name: "Authorization"),
            authorization.hasPrefix("AWS4-HMAC-SHA256 ")
        else {
            return (.forbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        let scope = (fields["Credential"] ?? "").split(separator: "/").map(String.init)
        guard scope.count == 5, scope[3] == "autoscaling", scope[4] == "aws4_request",
            let signedHeaders = fields["SignedHeaders"], let signature = fields["Signature"],
            let amzDate = head.headers.first(name: "X-Amz-Date"), amzDate.hasPrefix(scope[1])
        else {
            return (.badRequest, "IncompleteSignature", "Authorization header or X-Amz-Date is malformed")
        }
        call.accessKeyID = scope[0]
        guard let issued = aws.issued(accessKeyID: scope[0]) else {
            return (.forbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
        }
        guard head.headers.first(name: "X-Amz-Security-Token") == issued.credentials.sessionToken else {
            return (.forbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
        }
        guard issued.expiration > now else {
            return (.forbidden, "ExpiredToken", "The security token included in the request is expired")
        }
        let names = signedHeaders.split(separator: ";").map(String.init)
        guard names.contains("host"), names.contains("x-amz-date"), names.contains("x-amz-security-token") else {
            return (.forbidden, "SignatureDoesNotMatch", "host, x-amz-date and x-amz-security-token must be signed")
        }
        let headers = names.map { name in (name: name, value: head.headers[canonicalForm: name].joined(separator: ","))
        }
        let request = SigV4Request(
            method: head.method.rawValue, url: "http://\(head.headers.first(name: "Host") ?? "")\(head.uri)",
            headers: headers, body: body)
        let signer = SigV4Signer(region: scope[2], service: "autoscaling")
        let expected = signer.signature(
            canonicalRequest: signer.canonicalParts(request).canonicalRequest,
            secret: issued.credentials.secretAccessKey, amzDate: amzDate)
        guard expected == signature else {
            // As the service does: the message echoes the canonical request, signed headers (the token) included.
            let canonical = signer.canonicalParts(request).canonicalRequest
            return (
                .forbidden, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'\(canonical)'\n"
            )
        }
        return nil
    }

    private static func ok(_ action: String, result: String) -> SimulatorResponse {
        let inner = result.isEmpty ? "<\(action)Result/>" : "<\(action)Result>\(result)</\(action)Result>"
        let xml = """
            <\(action)Response xmlns="\(namespace)">
              \(inner)
              <ResponseMetadata><RequestId>\(UUID().uuidString.lowercased())</RequestId></ResponseMetadata>
            </\(action)Response>

            """
        return SimulatorResponse(status: .ok, headers: [("Content-Type", "text/xml")], body: ByteBuffer(string: xml))
    }

    private static func error(_ status: HTTPResponseStatus, _ code: String, _ message: String) -> SimulatorResponse {
        let type = status.code >= 500 ? "Receiver" : "Sender"
        let xml = """
            <ErrorResponse xmlns="\(namespace)">
              <Error><Type>\(type)</Type><Code>\(code)</Code><Message>\(escape(message))</Message></Error>
              <RequestId>\(UUID().uuidString.lowercased())</RequestId>
            </ErrorResponse>

            """
        return SimulatorResponse(status: status, headers: [("Content-Type", "text/xml")], body: ByteBuffer(string: xml))
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
