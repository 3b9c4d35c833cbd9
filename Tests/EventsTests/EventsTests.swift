import Events
import Testing

@Suite struct TimestampTests {
    @Test func formatsWholeSeconds() {
        #expect(Timestamp.rfc3339(seconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(seconds: 1_795_953_600) == "2026-11-29T12:00:00Z")
    }

    @Test func formatsMilliseconds() {
        #expect(Timestamp.rfc3339Milliseconds(1_795_953_481_532) == "2026-11-29T11:58:01.532Z")
        #expect(Timestamp.rfc3339Milliseconds(5) == "1970-01-01T00:00:00.005Z")
    }

    @Test func civilRoundTrip() {
        let seconds = Timestamp.epochSeconds(year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 58)
        #expect(Timestamp.rfc3339(seconds: seconds) == "2024-02-29T23:59:58Z")
        #expect(Timestamp.epochSeconds(year: 2019, month: 1, day: 21, hour: 9, minute: 0, second: 43) == 1_548_061_243)
    }

    @Test func formatsMaintenanceEventDates() {
        #expect(Timestamp.maintenanceEventDate(seconds: 1_548_061_243) == "21 Jan 2019 09:00:43 GMT")
        #expect(Timestamp.maintenanceEventDate(seconds: 1_700_000_000) == "14 Nov 2023 22:13:20 GMT")
        #expect(Timestamp.maintenanceEventDate(seconds: 1_548_979_200) == "1 Feb 2019 00:00:00 GMT")
    }

    @Test func parsesEveryFormItWrites() {
        for seconds: Int64 in [0, 1_548_061_243, 1_795_953_481, 253_402_300_799, -62_135_596_800] {
            #expect(Timestamp.epochSeconds(parsing: Timestamp.rfc3339(seconds: seconds)) == seconds)
            #expect(Timestamp.epochSeconds(parsing: Timestamp.rfc3339Milliseconds(seconds * 1000 + 999)) == seconds)
            #expect(Timestamp.epochSeconds(parsing: Timestamp.maintenanceEventDate(seconds: seconds)) == seconds)
        }
    }

    @Test func parsesOffsetsAndRefusesNonDates() {
        #expect(Timestamp.epochSeconds(parsing: "2019-01-21T11:00:43+02:00") == 1_548_061_243)
        #expect(Timestamp.epochSeconds(parsing: "Mon, 21 Jan 2019 04:00:43 -0500") == 1_548_061_243)
        #expect(Timestamp.epochSeconds(parsing: "2019-01-21T09:00:43") == 1_548_061_243)
        for text in [
            "", "soon", "2019-02-29T00:00:00Z", "21 Jan 2019 09:00:43 PST", "0000-12-31T23:59:59Z",
            "2019-01-21T09:00:43Z" + String(repeating: " ", count: 128),
        ] {
            #expect(Timestamp.epochSeconds(parsing: text) == nil, "\(text)")
        }
    }
}

@Suite struct JSONTests {
    @Test func serializesInOrderWithEscapes() {
        let value: JSONValue = ["b": "x\"y\n", "a": [1, true, nil], "c": .number(1.5)]
        #expect(value.serialized() == #"{"b":"x\"y\n","a":[1,true,null],"c":1.5}"#)
    }

    @Test func escapesControlCharacters() {
        #expect(JSONValue.string("\u{01}").serialized() == #""\u0001""#)
    }

    @Test func parsesWhatItSerializes() throws {
        let value: JSONValue = ["k": ["nested": [1, 2, "three"]], "u": "é\u{1F600}"]
        #expect(try JSONDocument.parse(value.serialized()) == value)
    }

    @Test func parsesTabIndentedDocuments() throws {
        let text = "{\n\t\"action\": \"terminate\",\n\t\"time\": \"2017-09-18T08:22:00Z\"\n}"
        let value = try JSONDocument.parse(text)
        #expect(value["action"] == "terminate")
    }

    @Test func rejectsGarbageWithOffset() {
        #expect(throws: JSONDocument.SyntaxError.self) { try JSONDocument.parse("{\"a\": }") }
        #expect(throws: JSONDocument.SyntaxError.self) { try JSONDocument.parse("[1,2") }
        #expect(throws: JSONDocument.SyntaxError.self) { try JSONDocument.parse(String(repeating: "[", count: 1000)) }
    }

    @Test func numbersFollowRFC8259() throws {
        #expect(
            try JSONDocument.parse("[0, -0, 12, -3.25, 1e3, 2E-2, 0.5]") == [
                0, 0, 12, .number(-3.25), 1000, .number(0.02), .number(0.5),
            ])
        for bad in ["+1", "01", ".5", "1.", "-", "1e", "1e+", "--1", "0x10"] {
            #expect(throws: JSONDocument.SyntaxError.self, "\(bad)") { try JSONDocument.parse(bad) }
        }
    }

    @Test func loneHighSurrogateKeepsTheNextCharacter() throws {
        #expect(try JSONDocument.parse(#""\ud800\u0041""#) == .string("\u{FFFD}A"))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONDocument.parse(#""\ud83d\ude00""#) == .string("\u{1F600}"))
    }

    @Test func embedKeepsPlainTextAsString() {
        #expect(JSONDocument.embed("i-0123") == .string("i-0123"))
        #expect(JSONDocument.embed("{\"a\":1}") == ["a": 1])
    }
}

@Suite struct EventPayloadTests {
    let instance = InstanceInfo(
        instanceID: "i-1", instanceType: "m5.large", region: "eu-west-1",
        availabilityZone: "eu-west-1b", accountID: "123456789012")

    @Test func payloadHasEveryContractField() throws {
        let event = Event(
            id: "abc", detectedAtMilliseconds: 1_795_953_481_532, instance: instance,
            detail: .spotInterruption(
                SpotInterruption(action: "terminate", time: EventTime(rfc3339: "2026-11-29T12:00:00Z"))))
        let parsed = try JSONDocument.parse(String(decoding: event.payloadBytes(), as: UTF8.self))
        #expect(parsed["schema"] == "imdswatch.event/v1")
        #expect(parsed["id"] == "abc")
        #expect(parsed["type"] == "spot-interruption")
        #expect(parsed["detected_at"] == "2026-11-29T11:58:01.532Z")
        #expect(parsed["source"] == "meta-data/spot/instance-action")
        #expect(parsed["instance"]?["availability_zone"] == "eu-west-1b")
        #expect(parsed["previous"] == .null)
        #expect(parsed["synthetic"] == .bool(false))
        #expect(event.deadline?.rfc3339 == "2026-11-29T12:00:00Z")
        #expect(event.deadlineMilliseconds == 1_795_953_600_000)
    }

    @Test func maintenanceDeadlineIsNotBefore() {
        let window = MaintenanceNotice(
            eventID: "instance-event-1", code: "system-reboot", description: "", state: "active",
            notBefore: EventTime(rfc3339: "2026-12-01T09:00:00Z"), notAfter: EventTime(rfc3339: "2026-12-01T11:00:00Z")
        )
        let event = Event(id: "m", detectedAtMilliseconds: 0, instance: instance, detail: .maintenanceScheduled(window))
        #expect(event.deadline?.rfc3339 == "2026-12-01T09:00:00Z")
        let tags = Event(
            id: "t", detectedAtMilliseconds: 0, instance: instance,
            detail: .tagsChanged(TagChanges(added: [], removed: [], changed: [], tags: [])))
        #expect(tags.deadline == nil)
    }
}
