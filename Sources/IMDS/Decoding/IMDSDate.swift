import Events

/// Dates as IMDS writes them, normalized to RFC 3339 UTC with whole seconds (`2019-01-21T09:00:43Z`).
///
/// Accepted forms: RFC 3339 (`2017-09-18T08:22:00Z`, with fractional seconds, with an offset such as `+02:00`,
/// a lower-case `t`/`z` or a space separator) and the maintenance-event form `21 Jan 2019 09:00:43 GMT`
/// (optionally with a leading weekday, `UTC` or `+0000`). Fractional seconds are truncated.
public enum IMDSDate {
    /// The normalized form of an IMDS date.
    /// - Parameter text: The date as IMDS sent it (surrounding whitespace is ignored).
    /// - Returns: RFC 3339 UTC with whole seconds.
    /// - Throws: ``IMDSDecodingError`` when the text is not a valid date in an accepted form.
    public static func normalize(_ text: String) throws(IMDSDecodingError) -> String {
        Timestamp.rfc3339(seconds: try epochSeconds(text))
    }

    /// Seconds since the Unix epoch of an IMDS date.
    /// - Parameter text: The date as IMDS sent it.
    /// - Throws: ``IMDSDecodingError`` when the text is not a valid date in an accepted form.
    public static func epochSeconds(_ text: String) throws(IMDSDecodingError) -> Int64 {
        let bytes = Array(text.utf8.prefix(128))
        var scanner = DateScanner(bytes: bytes)
        scanner.skipSpaces()
        let parsed: Int64?
        if let first = scanner.peek, isDigit(first), scanner.isRFC3339Shaped {
            parsed = scanner.rfc3339()
        } else {
            parsed = scanner.httpStyle()
        }
        guard let parsed, scanner.atEndIgnoringSpaces, text.utf8.count <= 128, representable.contains(parsed) else {
            throw IMDSDecodingError("not a date: \(preview(text))")
        }
        return parsed
    }

    /// The instants RFC 3339 writes with a four-digit year, `0001-01-01T00:00:00Z` through `9999-12-31T23:59:59Z`
    /// (an offset can push a valid local date outside: `0001-01-01T00:00:00+01:00`).
    static let representable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// A short, printable excerpt of untrusted text for error messages.
    static func preview(_ text: String) -> String {
        let clipped = text.unicodeScalars.prefix(40).map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) }
        return "\"" + String(clipped) + (text.unicodeScalars.count > 40 ? "…" : "") + "\""
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Epoch seconds for validated civil fields, or `nil` when a field is out of range.
    static func civil(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // A leap second (:60) is read as the last second of its minute.
        return Timestamp.epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
    }
}

/// A cursor over the bytes of a date; every read is bounds-checked.
private struct DateScanner {
    let bytes: [UInt8]
    var index = 0

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    var atEndIgnoringSpaces: Bool {
        var probe = self
        probe.skipSpaces()
        return probe.index == bytes.count
    }

    /// `YYYY-` at the start.
    var isRFC3339Shaped: Bool {
        index + 4 < bytes.count && bytes[index..<index + 4].allSatisfy(IMDSDate.isDigit) && bytes[index + 4] == UInt8(ascii: "-")
    }

    mutating func skipSpaces() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    mutating func expect(_ ascii: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: ascii) else { return false }
        index += 1
        return true
    }

    /// Exactly `count` digits.
    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + count] {
            guard IMDSDate.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += count
        return value
    }

    /// One or two digits.
    mutating func shortNumber() -> Int? {
        guard let first = peek, IMDSDate.isDigit(first) else { return nil }
        index += 1
        var value = Int(first - 0x30)
        if let second = peek, IMDSDate.isDigit(second) {
            index += 1
            value = value * 10 + Int(second - 0x30)
        }
        return value
    }

    mutating func letters() -> String {
        let start = index
        while let byte = peek, (byte | 0x20) >= UInt8(ascii: "a"), (byte | 0x20) <= UInt8(ascii: "z") { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self).lowercased()
    }

    mutating func time() -> (Int, Int, Int)? {
        guard let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2) else { return nil }
        return (hour, minute, second)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
    mutating func rfc3339() -> Int64? {
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else { return nil }
        guard expect("T") || expect("t") || expect(" ") else { return nil }
        guard let (hour, minute, second) = time() else { return nil }
        if expect(".") {
            let start = index
            while let byte = peek, IMDSDate.isDigit(byte) { index += 1 }
            guard index > start else { return nil }
        }
        guard let base = IMDSDate.civil(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        if atEndIgnoringSpaces { return base }  // No zone: IMDS always means UTC.
        guard let offset = zoneOffset(allowCompact: false) else { return nil }
        return base - offset
    }

    /// `[Mon, ]21 Jan 2019 09:00:43 GMT` (also `UTC`, `Z` or a numeric offset).
    mutating func httpStyle() -> Int64? {
        if let first = peek, !IMDSDate.isDigit(first) {
            guard letters().count == 3 else { return nil }
            _ = expect(",")
            skipSpaces()
        }
        guard let day = shortNumber() else { return nil }
        guard expect(" ") || expect("-") else { return nil }
        guard let month = IMDSDate.months.firstIndex(of: letters()) else { return nil }
        guard expect(" ") || expect("-") else { return nil }
        guard let year = digits(4), expect(" ") else { return nil }
        guard let (hour, minute, second) = time() else { return nil }
        guard let base = IMDSDate.civil(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        skipSpaces()
        if peek == nil { return base }  // No zone: IMDS always means UTC.
        guard let offset = zoneOffset(allowCompact: true) else { return nil }
        return base - offset
    }

    /// Seconds east of UTC: `Z`, `GMT`, `UTC`, `+HH:MM`, or with `allowCompact` also `+HHMM`.
    mutating func zoneOffset(allowCompact: Bool) -> Int64? {
        if expect("Z") || expect("z") { return 0 }
        if let byte = peek, byte != UInt8(ascii: "+"), byte != UInt8(ascii: "-") {
            let zone = letters()
            return zone == "gmt" || zone == "utc" ? 0 : nil
        }
        let negative = expect("-")
        if !negative { guard expect("+") else { return nil } }
        guard let hours = digits(2), hours <= 23 else { return nil }
        let colon = expect(":")
        guard colon || allowCompact, let minutes = digits(2), minutes <= 59 else { return nil }
        let seconds = Int64(hours * 3600 + minutes * 60)
        return negative ? -seconds : seconds
    }
}
