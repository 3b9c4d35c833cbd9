import Events
import IMDS
import Testing
import Watch

/// The tags source reads its values only when the key list changes and every `refreshPolls` polls (issue 17).
@Suite("Tag read cache")
struct TagReadCacheTests {
    private static func valueReads(_ reader: FakeMetadataReader) -> Int {
        reader.reads.filter { $0.path.hasPrefix(MetadataSource.tags.path + "/") }.count
    }

    @Test func anUnchangedKeyListReadsOnePath() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web", "team": "core"])
        var cache = TagReadCache(refreshPolls: 15)
        for _ in 0..<5 {
            #expect(await MetadataSource.tags.read(from: reader, tagCache: &cache) == .value(.tags(["Name": "web", "team": "core"])))
        }
        #expect(reader.reads(of: MetadataSource.tags.path).count == 5)
        #expect(Self.valueReads(reader) == 2, "values are read once, at the first poll")
    }

    @Test func aChangedKeyListReadsEveryValue() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web"])
        var cache = TagReadCache(refreshPolls: 15)
        _ = await MetadataSource.tags.read(from: reader, tagCache: &cache)
        reader.tags(["Name": "db", "team": "core"])
        #expect(await MetadataSource.tags.read(from: reader, tagCache: &cache) == .value(.tags(["Name": "db", "team": "core"])))
        #expect(Self.valueReads(reader) == 3)
    }

    @Test func aValueChangedUnderTheSameKeysIsSeenWithinTheRefreshBound() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web"])
        var cache = TagReadCache(refreshPolls: 4)
        _ = await MetadataSource.tags.read(from: reader, tagCache: &cache)
        reader.tags(["Name": "db"])
        var seen: [Observation] = []
        for _ in 0..<4 { seen.append(await MetadataSource.tags.read(from: reader, tagCache: &cache)) }
        // Polls 2, 3 and 4 answer from the cache; poll 5 is the 4th since the full read and reads every value.
        #expect(seen == [.value(.tags(["Name": "web"])), .value(.tags(["Name": "web"])), .value(.tags(["Name": "web"])),
                         .value(.tags(["Name": "db"]))])
    }

    @Test func aFailedOrAbsentReadIsNeverAnsweredFromTheCache() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web"])
        var cache = TagReadCache(refreshPolls: 15)
        _ = await MetadataSource.tags.read(from: reader, tagCache: &cache)
        reader.fail(MetadataSource.tags.path)
        guard case .failed = await MetadataSource.tags.read(from: reader, tagCache: &cache) else {
            Issue.record("a failed key list must be an error, not the cached tags")
            return
        }
        reader.tags(nil)
        #expect(await MetadataSource.tags.read(from: reader, tagCache: &cache) == .absent)
        reader.tags(["Name": "db"])
        #expect(await MetadataSource.tags.read(from: reader, tagCache: &cache) == .value(.tags(["Name": "db"])))
    }

    @Test func refreshEveryPollReadsEveryValueEveryPoll() async {
        let reader = FakeMetadataReader()
        reader.tags(["a": "1", "b": "2"])
        var cache = TagReadCache(refreshPolls: 1)
        for _ in 0..<3 { _ = await MetadataSource.tags.read(from: reader, tagCache: &cache) }
        #expect(Self.valueReads(reader) == 6)
    }
}
