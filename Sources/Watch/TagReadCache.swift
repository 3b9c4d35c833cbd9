public import Events
import IMDS

/// What the tags source remembers between two polls of one poll loop, so that a poll whose key list has not changed
/// reads one path instead of one per tag.
///
/// IMDS offers no conditional request (no `ETag`/`If-None-Match`, no change counter; docs/configuration.md), so a
/// value changed under an unchanged key can only be seen by reading it: every value is read again when the key list
/// changes, after a failed or absent read, and otherwise every ``refreshPolls`` polls.
public struct TagReadCache: Sendable {
    /// The keys and values of the last full read, or `nil` when the next poll must read every value.
    var tags: [String: String]?
    /// Polls answered from ``tags`` since the last full read.
    var cachedPolls = 0
    /// Every this many polls every value is read again (1: every poll, no caching).
    public let refreshPolls: Int

    /// - Parameter refreshPolls: Read every value on every this many polls (at least 1).
    public init(refreshPolls: Int = MetadataSource.tagValueRefreshPolls) {
        self.refreshPolls = max(1, refreshPolls)
    }

    /// The tags to report for `keys` without reading their values, or `nil` when they must be read.
    mutating func cached(for keys: [String]) -> [String: String]? {
        guard let tags, cachedPolls + 1 < refreshPolls, tags.count == keys.count,
              keys.allSatisfy({ tags[$0] != nil }) else { return nil }
        cachedPolls += 1
        return tags
    }

    /// Records a full read (`nil`: failed or absent; the next poll reads every value).
    mutating func record(_ tags: [String: String]?) {
        self.tags = tags
        cachedPolls = 0
    }
}

extension MetadataSource {
    /// Reads this source once like ``read(from:)``; the tags source reads its values only when `cache` says so.
    /// - Parameters:
    ///   - reader: Where to read.
    ///   - cache: The poll loop's tag cache (unused by other sources).
    /// - Returns: As ``read(from:)``.
    public func read(from reader: some MetadataReader, tagCache cache: inout TagReadCache) async -> Observation {
        guard self == .tags else { return await read(from: reader) }
        do throws(IMDSError) {
            guard let body = try await reader.text(path) else {
                cache.record(nil)
                return .absent
            }
            let keys = try decodeKeys(body, reader)
            if let tags = cache.cached(for: keys) { return .value(.tags(tags)) }
            let tags = try await readTagValues(keys, from: reader)
            cache.record(tags)
            return .value(.tags(tags))
        } catch {
            cache.record(nil)
            return .failed(error)
        }
    }
}
