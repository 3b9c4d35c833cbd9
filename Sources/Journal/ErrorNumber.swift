#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and describing `errno` in one place, right after the failing call.
enum ErrorNumber {
    /// The current thread's `errno`.
    static var current: Int32 { errno }

    /// `strerror` text with the number, e.g. `No such file or directory (errno 2)`.
    static func describe(_ number: Int32) -> String {
        guard let text = strerror(number) else { return "errno \(number)" }
        return "\(String(cString: text)) (errno \(number))"
    }
}
