import Events
import IMDS
import Testing

/// Inputs found by the fuzz targets in `Fuzz/` (see docs/fuzzing.md); each once crashed a target.
@Suite("Fuzz regressions: IMDS decoders")
struct IMDSFuzzRegressionTests {
    /// fuzz-date: an offset pushed a valid local date outside the years RFC 3339 can write, and the "normalized"
    /// result (`0000-12-31T22:00:15Z`, or a five-digit year) did not decode again.
    @Test(arguments: [
        "0001-01-01T00:00:15+02:00",
        "0001-01-01T00:00:00+00:01",
        "1 Jan 0001 00:00:00 +0100",
        "9999-12-31T23:59:59-00:01",
        "31 Dec 9999 23:30:00 -0100",
    ])
    func datesOutsideFourDigitYearsAreRejected(input: String) {
        #expect(throws: IMDSDecodingError.self) { try IMDSDate.normalize(input) }
    }

    @Test(arguments: [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"),
        ("9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z"),
    ])
    func theEdgesOfFourDigitYearsStillDecode(input: String, expected: String) throws {
        let normalized = try IMDSDate.normalize(input)
        #expect(normalized == expected)
        #expect(try IMDSDate.normalize(normalized) == normalized)
    }

    @Test func spotNoticeWithAnUnrepresentableTimeIsMalformed() {
        #expect(throws: IMDSDecodingError.self) {
            try SpotInterruption.decode(#"{"action": "terminate", "time": "0001-01-01T00:00:15+02:00"}"#)
        }
    }
}
