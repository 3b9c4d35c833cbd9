import Events
import IMDS

/// What the tags source remembers between two polls of one poll loop, so that a loop polling more often than the
/// values need to be read reads one path instead of one per tag.
///
/// IMDS offers no conditional request (no `ETag`/`If-None-Match`, no change counter; docs/configuration.md), so a
/// value changed under an unchanged key can only be seen by reading it. Every value is read again when the key list
/// changes, after a failed or absent read, and otherwise on every ``refreshPolls``th poll: at most every
/// ``maxRefreshPolls``th, and often enough that no value answered is older than ``valueMaxAge``. At the default tags
/// interval (60 s) every poll reads every value; at 2 s every 15th does (30 s), at 5 s every 12th (60 s).
package struct TagReadCache: Sendable {
    /// The longest a tag value is answered from the cache: 60 s, the default tags interval. An operator who changes
    /// a tag (to ask a host to drain) sees it acted on within about a minute.
    package static let valueMaxAge = Duration.seconds(60)
    /// The most polls between two reads of every value, whatever the interval: 15 (at 0.1 s, 1.5 s).
    package static let maxRefreshPolls = 15

    /// The keys and values of the last full read, or `nil` when the next poll must read every value.
    var tags: [String: String]?
    /// Polls answered from ``tags`` since the last full read.
    var cachedPolls = 0
    /// Every this many polls every value is read again (1: every poll, no caching).
    package let refreshPolls: Int

    /// A cache for a loop polling every `interval`: every value is read again on every ``maxRefreshPolls``th poll,
    /// or sooner when the values would otherwise be answered older than ``valueMaxAge`` (every poll when `interval`
    /// is ``valueMaxAge`` or longer).
    /// - Parameter interval: The tags source's poll interval (default: its default interval, 60 s).
    package init(interval: Duration = MetadataSource.tags.defaultInterval) {
        let polls = interval > .zero ? (Self.valueMaxAge / interval).rounded(.down) : 1
        self.init(refreshPolls: polls < Double(Self.maxRefreshPolls) ? Int(polls) : Self.maxRefreshPolls)
    }

    /// - Parameter refreshPolls: Read every value on every this many polls (at least 1).
    package init(refreshPolls: Int) {
        self.refreshPolls = max(1, refreshPolls)
    }

    /// The tags to report for `keys` without reading their values, or `nil` when they must be read.
    mutating func cached(for keys: [String]) -> [String: String]? {
        guard let tags, cachedPolls + 1 < refreshPolls, tags.count == keys.count,
            keys.allSatisfy({ tags[$0] != nil })
        else { return nil }
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
    package func read(from reader: some MetadataReader, tagCache cache: inout TagReadCache) async -> Observation {
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
