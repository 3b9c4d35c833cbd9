/// RFC 3339 formatting in UTC without Foundation's formatters (cheap on the hot path, identical everywhere).
public enum Timestamp {
    /// `2026-11-24T12:00:00Z` for whole seconds since the Unix epoch.
    public static func rfc3339(seconds: Int64) -> String {
        let (date, time) = civil(seconds: seconds)
        return "\(date)T\(time)Z"
    }

    /// `2026-11-24T11:58:01.532Z` for milliseconds since the Unix epoch.
    public static func rfc3339Milliseconds(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = milliseconds - seconds * 1000
        let (date, time) = civil(seconds: seconds)
        return "\(date)T\(time).\(pad(millis, 3))Z"
    }

    /// Seconds since the Unix epoch for a UTC civil date and time (proleptic Gregorian calendar).
    public static func epochSeconds(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64 {
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
    public struct CivilTime: Sendable, Equatable {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
    }

    /// The UTC calendar date and time of `seconds` since the Unix epoch (proleptic Gregorian calendar).
    public static func civilTime(seconds: Int64) -> CivilTime {
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
        return CivilTime(year: Int(year), month: Int(month), day: Int(day), hour: Int(secondOfDay / 3600),
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
}
