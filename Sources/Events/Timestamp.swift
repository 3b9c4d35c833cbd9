/// The one RFC 3339 timestamp codec: UTC formatting without Foundation's formatters (cheap on the hot path,
/// identical everywhere) and the one parser of the date forms IMDS writes.
///
/// Formats: whole seconds (`2026-11-24T12:00:00Z`, the dates in event payloads and state), milliseconds
/// (`2026-11-24T11:58:01.532Z`, `detected_at` and the stderr log line), and the maintenance-event form
/// (`21 Jan 2019 09:00:43 GMT`, which the simulator serves). ``epochSeconds(parsing:)`` reads all of them back.
package enum Timestamp {
    /// `2026-11-24T12:00:00Z` for whole seconds since the Unix epoch.
    package static func rfc3339(seconds: Int64) -> String {
        let (date, time) = civil(seconds: seconds)
        return "\(date)T\(time)Z"
    }

    /// `2026-11-24T11:58:01.532Z` for milliseconds since the Unix epoch (also the stderr log line's timestamp).
    package static func rfc3339Milliseconds(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = milliseconds - seconds * 1000
        let (date, time) = civil(seconds: seconds)
        return "\(date)T\(time).\(pad(millis, 3))Z"
    }

    /// `21 Jan 2019 09:00:43 GMT` (day not padded, year four digits), the form of dates in IMDS maintenance events.
    package static func maintenanceEventDate(seconds: Int64) -> String {
        let c = civilTime(seconds: seconds)
        let time = "\(pad(Int64(c.hour), 2)):\(pad(Int64(c.minute), 2)):\(pad(Int64(c.second), 2))"
        return "\(c.day) \(monthNames[c.month - 1]) \(pad(Int64(c.year), 4)) \(time) GMT"
    }

    /// Seconds since the Unix epoch of a date in a form IMDS writes, or `nil` when `text` is not one.
    ///
    /// Accepted forms: RFC 3339 (`2017-09-18T08:22:00Z`, with fractional seconds, with an offset such as `+02:00`,
    /// a lower-case `t`/`z` or a space separator, or without a zone, meaning UTC) and the maintenance-event form
    /// `21 Jan 2019 09:00:43 GMT` (optionally with a leading weekday, `UTC` or `+0000`). Fractional seconds are
    /// truncated; a leap second (`:60`) is read as the last second of its minute. Surrounding whitespace is
    /// ignored; text longer than 128 bytes and instants outside years 1 to 9999 are refused. This is the parser
    /// `Fuzz/fuzz-date` exercises.
    /// - Parameter text: The date as IMDS (or a user of the simulator) wrote it.
    /// - Returns: The instant, or `nil`.
    package static func epochSeconds(parsing text: String) -> Int64? {
        guard text.utf8.count <= 128 else { return nil }
        var scanner = DateScanner(bytes: Array(text.utf8))
        scanner.skipSpaces()
        let parsed: Int64?
        if let first = scanner.peek, isDigit(first), scanner.isRFC3339Shaped {
            parsed = scanner.rfc3339()
        } else {
            parsed = scanner.httpStyle()
        }
        guard let parsed, scanner.atEndIgnoringSpaces, representable.contains(parsed) else { return nil }
        return parsed
    }

    /// Seconds since the Unix epoch for a UTC civil date and time (proleptic Gregorian calendar).
    package static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
        // Howard Hinnant's days_from_civil.
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60 + Int64(second)
    }

    /// A UTC calendar date and time of day.
    package struct CivilTime: Sendable, Equatable {
        package var year: Int
        package var month: Int
        package var day: Int
        package var hour: Int
        package var minute: Int
        package var second: Int
    }

    /// The UTC calendar date and time of `seconds` since the Unix epoch (proleptic Gregorian calendar).
    package static func civilTime(seconds: Int64) -> CivilTime {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return CivilTime(
            year: Int(year), month: Int(month), day: Int(day), hour: Int(secondOfDay / 3600),
            minute: Int(secondOfDay % 3600 / 60), second: Int(secondOfDay % 60))
    }

    private static func civil(seconds: Int64) -> (String, String) {
        let c = civilTime(seconds: seconds)
        let date = "\(pad(Int64(c.year), 4))-\(pad(Int64(c.month), 2))-\(pad(Int64(c.day), 2))"
        let time = "\(pad(Int64(c.hour), 2)):\(pad(Int64(c.minute), 2)):\(pad(Int64(c.second), 2))"
        return (date, time)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // MARK: - Parsing helpers

    /// The instants RFC 3339 writes with a four-digit year, `0001-01-01T00:00:00Z` through `9999-12-31T23:59:59Z`
    /// (an offset can push a valid local date outside: `0001-01-01T00:00:00+01:00`).
    static let representable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let monthAbbreviations = monthNames.map { $0.lowercased() }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Epoch seconds for validated civil fields, or `nil` when a field is out of range.
    static func validatedEpochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // A leap second (:60) is read as the last second of its minute.
        return epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59))
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
        index + 4 < bytes.count && bytes[index..<index + 4].allSatisfy(Timestamp.isDigit)
            && bytes[index + 4] == UInt8(ascii: "-")
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
            guard Timestamp.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += count
        return value
    }

    /// One or two digits.
    mutating func shortNumber() -> Int? {
        guard let first = peek, Timestamp.isDigit(first) else { return nil }
        index += 1
        var value = Int(first - 0x30)
        if let second = peek, Timestamp.isDigit(second) {
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
        guard let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2) else {
            return nil
        }
        return (hour, minute, second)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
    mutating func rfc3339() -> Int64? {
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else {
            return nil
        }
        guard expect("T") || expect("t") || expect(" ") else { return nil }
        guard let (hour, minute, second) = time() else { return nil }
        if expect(".") {
            let start = index
            while let byte = peek, Timestamp.isDigit(byte) { index += 1 }
            guard index > start else { return nil }
        }
        guard
            let base = Timestamp.validatedEpochSeconds(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else {
            return nil
        }
        if atEndIgnoringSpaces { return base } // No zone: IMDS always means UTC.
        guard let offset = zoneOffset(allowCompact: false) else { return nil }
        return base - offset
    }

    /// `[Mon, ]21 Jan 2019 09:00:43 GMT` (also `UTC`, `Z` or a numeric offset).
    mutating func httpStyle() -> Int64? {
        if let first = peek, !Timestamp.isDigit(first) {
            guard letters().count == 3 else { return nil }
            _ = expect(",")
            skipSpaces()
        }
        guard let day = shortNumber() else { return nil }
        guard expect(" ") || expect("-") else { return nil }
        guard let month = Timestamp.monthAbbreviations.firstIndex(of: letters()) else { return nil }
        guard expect(" ") || expect("-") else { return nil }
        guard let year = digits(4), expect(" ") else { return nil }
        guard let (hour, minute, second) = time() else { return nil }
        guard
            let base = Timestamp.validatedEpochSeconds(
                year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
        else {
            return nil
        }
        skipSpaces()
        if peek == nil { return base } // No zone: IMDS always means UTC.
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
