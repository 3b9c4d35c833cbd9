import Events
import HTTP

/// What an attempt's result means for the delivery.
package enum WebhookAttemptVerdict: Sendable, Equatable {
    /// A 2xx: done.
    case delivered
    /// Worth another try; `retryAfterMilliseconds` is the receiver's `Retry-After`, when it sent one.
    case retry(retryAfterMilliseconds: Int64?)
    /// Will not get better: drop the delivery.
    case drop

    /// Classifies an HTTP status. 2xx delivers; 408, 429 and 5xx retry; anything else (other 4xx, 3xx) drops.
    /// - Parameters:
    ///   - response: The response.
    ///   - nowMilliseconds: Now, to turn an HTTP-date `Retry-After` into a delay.
    package static func classify(_ response: HTTPResponse, nowMilliseconds: Int64) -> WebhookAttemptVerdict {
        switch response.status {
        case 200..<300:
            return .delivered
        case 408, 429, 500..<600:
            let retryAfter = response.header("Retry-After").flatMap {
                RetryAfter.milliseconds($0, nowMilliseconds: nowMilliseconds)
            }
            return .retry(retryAfterMilliseconds: retryAfter)
        default:
            return .drop
        }
    }

    /// Classifies a transport error: every failure to get a complete response is retried except an invalid URL.
    package static func classify(_ error: HTTPError) -> WebhookAttemptVerdict {
        error.code == .invalidURL ? .drop : .retry(retryAfterMilliseconds: nil)
    }
}

/// Parses `Retry-After`: delay seconds or an HTTP-date (RFC 9110).
package enum RetryAfter {
    /// The delay in milliseconds (never negative), or `nil` when the value is neither form.
    package static func milliseconds(_ value: String, nowMilliseconds: Int64) -> Int64? {
        let trimmed = value.trimmingSpaces
        if let seconds = Int64(trimmed), seconds >= 0 {
            return min(seconds, 86_400) * 1000
        }
        guard let date = httpDateSeconds(trimmed) else { return nil }
        return max(0, date * 1000 - nowMilliseconds)
    }

    /// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDateSeconds(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else { return nil }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let monthIndex = months.firstIndex(of: String(parts[2])) else { return nil }
        let time = parts[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        return Timestamp.epochSeconds(
            year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time[2]
        )
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension Duration {
    /// Whole milliseconds (rounded down).
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
