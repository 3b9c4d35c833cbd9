/// Why an IMDS body could not be decoded as its path's format.
///
/// A decoding error is never read as "absent": the watch engine turns it into an ``IMDSError`` with code
/// ``IMDSError/Code/malformedResponse`` and fires nothing from it.
package struct IMDSDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong with the body, for operators (never the whole body).
    package var reason: String

    /// Creates an error.
    /// - Parameter reason: What was wrong, in a few words.
    package init(_ reason: String) {
        self.reason = reason
    }

    package var description: String { reason }

    /// The error as an ``IMDSError`` for the path it was read from.
    /// - Parameters:
    ///   - path: The metadata path (relative to `/latest/`).
    ///   - endpoint: The endpoint base URL, when known.
    /// - Returns: An error with code ``IMDSError/Code/malformedResponse``.
    package func imdsError(path: String, endpoint: String = "") -> IMDSError {
        let at = endpoint.isEmpty ? "IMDS" : "IMDS at \(endpoint)"
        return IMDSError(
            code: .malformedResponse, path: path, endpoint: endpoint, status: 200,
            message: "\(at) returned an unparsable body for \(path): \(reason)"
        )
    }
}
