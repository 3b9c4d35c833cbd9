import Events
import Foundation
import IMDSWatchTestKit
import SigV4
import Testing

/// Our SigV4 signer against AWS's published examples and against botocore's `SigV4Auth` on generated requests.
@Suite("SigV4")
struct SigV4Tests {
    static let exampleCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    /// The example of the SigV4 documentation ("Create a signed request": IAM ListUsers, 2015-08-30).
    @Test func matchesTheDocumentedIAMExample() {
        let signer = SigV4Signer(region: "us-east-1", service: "iam")
        let request = SigV4Request(
            method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        )
        let headers = signer.sign(request, credentials: Self.exampleCredentials, amzDate: "20150830T123600Z")
        #expect(headers.map(\.name) == ["X-Amz-Date", "Authorization"])
        #expect(
            headers.last?.value
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        )
    }

    /// `get-vanilla` and `post-x-www-form-urlencoded` of AWS's SigV4 test suite.
    @Test func matchesTheTestSuiteExamples() {
        let signer = SigV4Signer(region: "us-east-1", service: "service")
        let vanilla = signer.sign(
            SigV4Request(method: "GET", url: "https://example.amazonaws.com/"), credentials: Self.exampleCredentials,
            amzDate: "20150830T123600Z")
        #expect(
            vanilla.last?.value.hasSuffix(
                "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ) == true)
        let form = signer.sign(
            SigV4Request(
                method: "POST", url: "https://example.amazonaws.com/",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("Param1=value1".utf8)),
            credentials: Self.exampleCredentials, amzDate: "20150830T123600Z"
        )
        #expect(
            form.last?.value.hasSuffix("Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
                == true)
    }

    @Test func formatsAmzDates() {
        #expect(SigV4Signer.amzDate(epochSeconds: 1_440_938_160) == "20150830T123600Z")
        #expect(SigV4Signer.amzDate(epochSeconds: 0) == "19700101T000000Z")
        #expect(SigV4Signer.amzDate(epochSeconds: 1_798_761_599) == "20261231T235959Z")
    }

    @Test func encodesFormsAsTheQueryAPIExpects() {
        #expect(
            SigV4Signer.formEncode([("Action", "CompleteLifecycleAction"), ("LifecycleHookName", "drain hook/ü+&=")])
                == "Action=CompleteLifecycleAction&LifecycleHookName=drain%20hook%2F%C3%BC%2B%26%3D")
        #expect(SigV4Signer.percentDecode("drain%20hook%2F%C3%BC") == "drain hook/ü")
    }

    /// 300 generated requests (methods, hosts with and without ports, paths, query strings, repeated headers,
    /// white space in values, bodies, temporary and long-term credentials, regions, dates): botocore computes the
    /// same `Authorization` for each.
    @Test func agreesWithBotocoreOnGeneratedRequests() async throws {
        var random = SplitMix(seed: 0x5157_4134)
        var cases: [(request: SigV4Request, credentials: AWSCredentials, signer: SigV4Signer, date: String)] = []
        let unreserved = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
        func word(_ length: Int) -> String {
            String((0..<length).map { _ in unreserved[Int(random.next() % UInt64(unreserved.count))] })
        }
        for index in 0..<300 {
            let host = [
                "autoscaling.eu-west-1.amazonaws.com", "127.0.0.1:\(1024 + random.next() % 60000)", "example.com",
            ][index % 3]
            let scheme = index % 3 == 1 ? "http" : "https"
            let path = ["/", "/autoscaling/", "/a/b-c/~d", "/\(word(8))"][Int(random.next() % 4)]
            let queryCount = Int(random.next() % 4)
            let query = (0..<queryCount).map { _ in
                "\(word(1 + Int(random.next() % 6)))=\(word(Int(random.next() % 8)))"
            }.joined(separator: "&")
            let url = "\(scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)"
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            ]
            for _ in 0..<Int(random.next() % 3) {
                headers.append(
                    (
                        ["X-Custom-\(word(3))", "x-amz-meta", "Accept"][Int(random.next() % 3)],
                        "  \(word(4))   \(word(3)) "
                    ))
            }
            let body = SigV4Signer.formEncode((0..<Int(random.next() % 5)).map { _ in (word(6), word(10) + " ü&=") })
            let credentials = AWSCredentials(
                accessKeyID: "ASIA" + word(16).uppercased(), secretAccessKey: word(40),
                sessionToken: index % 2 == 0 ? word(200) : nil
            )
            let signer = SigV4Signer(
                region: ["eu-west-1", "us-east-1", "ap-southeast-2", "cn-north-1"][index % 4],
                service: index % 5 == 0 ? "iam" : "autoscaling")
            let date = SigV4Signer.amzDate(epochSeconds: Int64(1_400_000_000 + random.next() % 500_000_000))
            cases.append(
                (
                    SigV4Request(
                        method: index % 4 == 0 ? "GET" : "POST", url: url, headers: headers, body: Array(body.utf8)),
                    credentials, signer, date
                ))
        }
        let input: JSONValue = .array(
            cases.map { item in
                [
                    "method": .string(item.request.method), "url": .string(item.request.url),
                    "headers": .array(item.request.headers.map { [.string($0.name), .string($0.value)] }),
                    "body": .string(String(decoding: item.request.body, as: UTF8.self)),
                    "access_key": .string(item.credentials.accessKeyID),
                    "secret_key": .string(item.credentials.secretAccessKey),
                    "token": .string(orNull: item.credentials.sessionToken), "region": .string(item.signer.region),
                    "service": .string(item.signer.service), "amz_date": .string(item.date),
                ]
            })
        let theirs = try await Botocore.authorizations(input)
        #expect(theirs.count == cases.count)
        for (item, expected) in zip(cases, theirs) {
            let ours = item.signer.sign(item.request, credentials: item.credentials, amzDate: item.date).last?.value
            #expect(ours == expected, "\(item.request.method) \(item.request.url)")
        }
    }
}

/// Runs Tests/support/sigv4_botocore.py with `$TEST_PYTHON_IMDS_CLIENTS` (the venv scripts/test makes).
enum Botocore {
    static var python: String { ProcessInfo.processInfo.environment["TEST_PYTHON_IMDS_CLIENTS"] ?? "/usr/bin/python3" }
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("support/sigv4_botocore.py").path
    }

    /// botocore's `Authorization` for each request of `input` (see the script for the shape).
    static func authorizations(_ input: JSONValue) async throws -> [String] {
        let outcome = try await ProcessRunner.run(python, [script], stdin: input.serialized(), timeout: .seconds(120))
        guard outcome.status == 0, case .array(let values) = try JSONDocument.parse(outcome.stdout) else {
            Issue.record("botocore signer failed (is botocore installed for \(python)?): \(outcome.stderr)")
            return []
        }
        return values.compactMap(\.stringValue)
    }
}
