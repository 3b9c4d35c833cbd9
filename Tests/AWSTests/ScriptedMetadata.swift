import IMDS

/// A ``MetadataReader`` whose answers a closure gives (`nil`: 404), for the credentials provider and lifecycle context.
struct ScriptedMetadata: MetadataReader {
    let answer: @Sendable (String) async throws(IMDSError) -> String?

    /// A reader that answers `answer(path)`.
    init(_ answer: @escaping @Sendable (String) async throws(IMDSError) -> String?) {
        self.answer = answer
    }

    /// A reader for which every path is absent.
    static var absent: ScriptedMetadata { ScriptedMetadata { _ throws(IMDSError) in nil } }

    func text(_ path: String) async throws(IMDSError) -> String? {
        try await answer(path)
    }
}
