import Durability

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one error type of the Journal module: a failed journal write or a failed notification to systemd.
///
/// `errno` values are captured at the failing call and carried here, so callers never read the global `errno`.
package struct JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case journalSend
            case notifyAddress
            case notifySocket
            case notifySend
        }

        private let value: Value

        /// `sd_journal_sendv` failed (usually: no journald listening on `/run/systemd/journal/socket`).
        package static let journalSend = Code(value: .journalSend)
        /// `$NOTIFY_SOCKET` holds an address this module cannot use (not an absolute path, not `@abstract`, too long).
        package static let notifyAddress = Code(value: .notifyAddress)
        /// Creating the datagram socket for a notification failed.
        package static let notifySocket = Code(value: .notifySocket)
        /// Sending a notification datagram failed.
        package static let notifySend = Code(value: .notifySend)

        package var description: String {
            switch value {
            case .journalSend: "journal send failed"
            case .notifyAddress: "unusable NOTIFY_SOCKET address"
            case .notifySocket: "cannot create notify socket"
            case .notifySend: "notify send failed"
            }
        }
    }

    /// What failed.
    package let code: Code
    /// The `errno` of the failing call, when there is one.
    package let errno: Int32?
    /// Human-readable context, such as the socket path.
    package let context: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: What failed.
    ///   - errno: The `errno` captured right after the failing call, if any.
    ///   - context: Human-readable context.
    package init(code: Code, errno: Int32? = nil, context: String = "") {
        self.code = code
        self.errno = errno
        self.context = context
    }

    package var description: String {
        var text = code.description
        if !context.isEmpty { text += " (\(context))" }
        if let errno { text += ": \(SystemCall.describe(errno: errno)) (errno \(errno))" }
        return text
    }
}
