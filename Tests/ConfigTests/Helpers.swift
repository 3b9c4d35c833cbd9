import Testing

@testable import Config

/// Parses `text` as `imdswatch.toml`, expecting it to fail, and returns the issues.
func issues(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigIssue] {
    do {
        _ = try ConfigFile.parse(text, path: "imdswatch.toml")
        Issue.record("expected the file to be refused", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

/// The single issue of a refused file.
func onlyIssue(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ConfigIssue {
    let found = issues(text, sourceLocation: sourceLocation)
    #expect(found.count == 1, "\(found)", sourceLocation: sourceLocation)
    return try #require(found.first, sourceLocation: sourceLocation)
}

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    components.removeLast(3)
    return components.joined(separator: "/")
}()
