/// Reads IMDS paths as text: the one metadata-reader abstraction. The watch engine, the AWS credentials provider and
/// the lifecycle context read through it, so that tests inject a fake; ``IMDSClient`` is the production reader.
package protocol MetadataReader: Sendable {
    /// Reads a path as text.
    /// - Parameter path: Relative to `/latest/`, e.g. `meta-data/spot/instance-action`.
    /// - Returns: The body, or `nil` when the path is absent (404).
    /// - Throws: ``IMDSError`` for every other outcome; never for a 404.
    func text(_ path: String) async throws(IMDSError) -> String?

    /// The endpoint base URL for error messages; empty when there is none.
    var endpointDescription: String { get }
}

extension MetadataReader {
    /// No endpoint to name.
    package var endpointDescription: String { "" }
}

extension IMDSClient: MetadataReader {
    /// The endpoint base URL.
    package nonisolated var endpointDescription: String { endpoint.description }
}
