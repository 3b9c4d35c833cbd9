import Events
import IMDS
import IMDSWatchTestKit
import Testing

@Suite("IMDS decoders")
struct DecodingTests {
    // MARK: Dates

    @Test(arguments: [
        ("2017-09-18T08:22:00Z", "2017-09-18T08:22:00Z"),
        ("2017-09-18T08:22:00.123456Z", "2017-09-18T08:22:00Z"),
        ("2017-09-18T10:22:00+02:00", "2017-09-18T08:22:00Z"),
        ("2017-09-18T02:52:00.5-05:30", "2017-09-18T08:22:00Z"),
        ("2017-09-18t08:22:00z", "2017-09-18T08:22:00Z"),
        ("2017-09-18 08:22:00Z", "2017-09-18T08:22:00Z"),
        ("  2017-09-18T08:22:00Z\n", "2017-09-18T08:22:00Z"),
        ("2017-09-18T08:22:00", "2017-09-18T08:22:00Z"),
        ("21 Jan 2019 09:00:43 GMT", "2019-01-21T09:00:43Z"),
        ("1 Feb 2019 09:00:43 GMT", "2019-02-01T09:00:43Z"),
        ("Mon, 21 Jan 2019 09:00:43 GMT", "2019-01-21T09:00:43Z"),
        ("21 Jan 2019 09:00:43 UTC", "2019-01-21T09:00:43Z"),
        ("21 Jan 2019 11:00:43 +0200", "2019-01-21T09:00:43Z"),
        ("29 Feb 2024 23:59:59 GMT", "2024-02-29T23:59:59Z"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"),
        ("2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"),
    ])
    func normalizesIMDSDates(input: String, expected: String) throws {
        #expect(try IMDSDate.normalize(input) == expected)
    }

    @Test(arguments: [
        "", "   ", "yesterday", "2017-13-01T00:00:00Z", "2017-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
        "2017-09-18T24:00:00Z", "2017-09-18T08:60:00Z", "2017-09-18T08:22Z", "2017-09-18", "2017-09-18T08:22:00.Z",
        "2017-09-18T08:22:00+2", "2017-09-18T08:22:00Zjunk", "21 Foo 2019 09:00:43 GMT", "32 Jan 2019 09:00:43 GMT",
        "21 Jan 2019 09:00:43 PST", "21 Jan 19 09:00:43 GMT", "١٢ Jan 2019 09:00:43 GMT", "\u{0}",
        String(repeating: "9", count: 10_000),
    ])
    func rejectsNonDates(input: String) {
        #expect(throws: IMDSDecodingError.self) { try IMDSDate.normalize(input) }
    }

    // MARK: Spot and rebalance

    @Test func decodesRealSpotNotice() throws {
        let notice = try SpotInterruption.decode(#"{"action": "terminate", "time": "2017-09-18T08:22:00Z"}"#)
        #expect(notice == SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2017-09-18T08:22:00Z")))
    }

    @Test func decodesAEMMSpotNotice() throws {
        let body = "{\n\t\"action\": \"stop\",\n\t\"time\": \"2026-11-24T12:00:00.000Z\"\n}"
        #expect(
            try SpotInterruption.decode(body)
                == SpotInterruption(action: "stop", time: EventTime(rfc3339: "2026-11-24T12:00:00Z")))
    }

    @Test(arguments: [
        "", "terminate", "[]", "{}", #"{"action": "terminate"}"#, #"{"time": "2017-09-18T08:22:00Z"}"#,
        #"{"action": 1, "time": "2017-09-18T08:22:00Z"}"#, #"{"action": "terminate", "time": "soon"}"#,
        #"{"action": "", "time": "2017-09-18T08:22:00Z"}"#, #"{"action": "terminate", "time": "2017-09-18T08:22:00Z""#,
        "<?xml version=\"1.0\"?><html><body>404 - Not Found</body></html>",
    ])
    func rejectsBadSpotBodies(body: String) {
        #expect(throws: IMDSDecodingError.self) { try SpotInterruption.decode(body) }
    }

    @Test func decodesRebalanceInBothFormats() throws {
        #expect(
            try RebalanceNotice.decode(#"{"noticeTime": "2020-10-27T08:22:00Z"}"#).noticeTime.rfc3339
                == "2020-10-27T08:22:00Z")
        let aemm = "{\n\t\"noticeTime\": \"2020-10-27T08:22:00.5+00:00\"\n}"
        #expect(try RebalanceNotice.decode(aemm).noticeTime.rfc3339 == "2020-10-27T08:22:00Z")
        #expect(throws: IMDSDecodingError.self) { try RebalanceNotice.decode(#"{"noticeTime": null}"#) }
    }

    // MARK: Maintenance

    static let realMaintenance = """
        [ {
          "NotBefore" : "21 Jan 2019 09:00:43 GMT",
          "Code" : "system-reboot",
          "Description" : "scheduled reboot",
          "EventId" : "instance-event-0d59937288b749b32",
          "NotAfter" : "21 Jan 2019 09:17:23 GMT",
          "State" : "active",
          "NotBeforeDeadline" : "31 Jan 2019 09:00:43 GMT"
        } ]
        """

    @Test func decodesRealMaintenanceList() throws {
        let events = try MaintenanceNotice.decodeList(Self.realMaintenance)
        #expect(
            events == [
                MaintenanceNotice(
                    eventID: "instance-event-0d59937288b749b32", code: "system-reboot", description: "scheduled reboot",
                    state: "active", notBefore: EventTime(rfc3339: "2019-01-21T09:00:43Z"),
                    notAfter: EventTime(rfc3339: "2019-01-21T09:17:23Z"),
                    notBeforeDeadline: EventTime(rfc3339: "2019-01-31T09:00:43Z")
                )
            ])
    }

    @Test func decodesAEMMMaintenanceList() throws {
        let body =
            "[\n\t{\n\t\t\"NotBefore\": \"21 Jan 2019 09:00:43 GMT\",\n\t\t\"Code\": \"system-reboot\",\n"
            + "\t\t\"Description\": \"scheduled reboot\",\n\t\t\"EventId\": \"instance-event-0d59937288b749b32\",\n"
            + "\t\t\"NotAfter\": \"21 Jan 2019 09:17:23 GMT\",\n\t\t\"State\": \"active\"\n\t}\n]"
        let events = try MaintenanceNotice.decodeList(body)
        #expect(events.count == 1)
        #expect(events.first?.notBeforeDeadline == nil)
        #expect(events.first?.notAfter.rfc3339 == "2019-01-21T09:17:23Z")
    }

    @Test func decodesEmptyMaintenanceList() throws {
        #expect(try MaintenanceNotice.decodeList("[]").isEmpty)
        #expect(try MaintenanceNotice.decodeList(" [ ]\n").isEmpty)
    }

    @Test(arguments: [
        "", "{}", "null", "[1]", #"[{"Code": "system-reboot"}]"#,
        #"[{"EventId": "e", "NotBefore": "later", "NotAfter": "21 Jan 2019 09:17:23 GMT"}]"#,
        #"[{"EventId": "", "NotBefore": "21 Jan 2019 09:00:43 GMT", "NotAfter": "21 Jan 2019 09:17:23 GMT"}]"#,
    ])
    func rejectsBadMaintenanceBodies(body: String) {
        #expect(throws: IMDSDecodingError.self) { try MaintenanceNotice.decodeList(body) }
    }

    // MARK: Lifecycle state and tags

    @Test(arguments: ["InService", "InService\n", "  Warmed:Running \r\n", "Terminated"])
    func decodesLifecycleState(body: String) throws {
        let expected = body.split(whereSeparator: \.isWhitespace).first.map(String.init)
        #expect(try LifecycleState.decode(body) == expected)
    }

    @Test(arguments: [
        "", " \n", "In Service", "<html>404</html>", "{\"state\":\"InService\"}", String(repeating: "A", count: 65),
    ])
    func rejectsBadLifecycleState(body: String) {
        #expect(throws: IMDSDecodingError.self) { try LifecycleState.decode(body) }
    }

    @Test func decodesTagKeys() throws {
        #expect(
            try InstanceTags.decodeKeys("Name\nteam\r\naws:autoscaling:groupName\n\nName\n") == [
                "Name", "aws:autoscaling:groupName", "team",
            ])
        #expect(try InstanceTags.decodeKeys("").isEmpty)
        #expect(try InstanceTags.decodeKeys("a+b-c=d.e,f_g:h@i") == ["a+b-c=d.e,f_g:h@i"])
        #expect(InstanceTags.valuePath("Name") == "meta-data/tags/instance/Name")
    }

    @Test(arguments: ["<html>", "has space", "../etc", "a/b", "key?x", String(repeating: "k", count: 129)])
    func rejectsBadTagKeys(body: String) {
        #expect(throws: IMDSDecodingError.self) { try InstanceTags.decodeKeys(body) }
    }

    @Test func keepsTagValuesRaw() throws {
        #expect(try InstanceTags.decodeValue(" web server ünïcode \n") == " web server ünïcode \n")
        #expect(throws: IMDSDecodingError.self) { try InstanceTags.decodeValue(String(repeating: "v", count: 5000)) }
    }

    // MARK: Identity document

    @Test func decodesIdentityDocumentWithNulls() throws {
        let body = """
            {
              "accountId" : "123456789012",
              "architecture" : "x86_64",
              "availabilityZone" : "eu-west-1b",
              "billingProducts" : null,
              "imageId" : "ami-0123456789abcdef0",
              "instanceId" : "i-0123456789abcdef0",
              "instanceType" : "m5.large",
              "kernelId" : null,
              "pendingTime" : "2026-11-24T08:00:00Z",
              "privateIp" : "10.0.0.12",
              "ramdiskId" : null,
              "region" : "eu-west-1",
              "version" : "2017-09-30"
            }
            """
        #expect(
            try InstanceIdentityDocument.decode(body)
                == InstanceIdentityDocument(
                    accountID: "123456789012", availabilityZone: "eu-west-1b", instanceID: "i-0123456789abcdef0",
                    instanceType: "m5.large", region: "eu-west-1"
                ))
        let sparse = try InstanceIdentityDocument.decode("{\n\t\"instanceId\": \"i-1\",\n\t\"region\": null\n}")
        #expect(sparse.instanceID == "i-1" && sparse.region == "" && sparse.accountID == "")
        #expect(throws: IMDSDecodingError.self) { try InstanceIdentityDocument.decode("[]") }
    }

    // MARK: Garbage

    @Test func decodersNeverCrashOnGarbage() {
        var generator = SplitMix(seed: 42)
        let alphabet = Array(#"{}[]":,.-+0123456789eEtrufalsn \t\n\\/ZT GMTJan<>"#.utf8)
        let seeds = [Self.realMaintenance, #"{"action": "terminate", "time": "2017-09-18T08:22:00Z"}"#]
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(generator.next() % 200)).map { _ in
                    alphabet[Int(generator.next() % UInt64(alphabet.count))]
                }
            } else {
                bytes = Array(seeds[round % 4 == 1 ? 0 : 1].utf8)
                for _ in 0..<(1 + generator.next() % 4) where !bytes.isEmpty {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            _ = try? SpotInterruption.decode(text)
            _ = try? RebalanceNotice.decode(text)
            _ = try? MaintenanceNotice.decodeList(text)
            _ = try? LifecycleState.decode(text)
            _ = try? InstanceTags.decodeKeys(text)
            _ = try? InstanceIdentityDocument.decode(text)
            _ = try? IMDSDate.normalize(text)
        }
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: IMDSDecodingError.self) { try MaintenanceNotice.decodeList(deep) }
    }

    @Test func decodingErrorBecomesMalformedResponse() {
        let error = IMDSDecodingError("bad").imdsError(
            path: "meta-data/spot/instance-action", endpoint: "http://127.0.0.1:1")
        #expect(error.code == .malformedResponse)
        #expect(error.message.contains("meta-data/spot/instance-action"))
    }
}
