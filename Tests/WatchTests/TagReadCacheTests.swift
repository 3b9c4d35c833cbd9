import Events
import IMDS
import IMDSWatchTestKit
import Testing
import Watch

/// The tags source reads its values when the key list changes, at least every 15th poll, and often enough that none
/// is older than 60 s (issue 17, issue 22).
@Suite("Tag read cache", .timeLimit(.minutes(1)))
struct TagReadCacheTests {
    private static func valueReads(_ reader: FakeMetadataReader) -> Int {
        reader.reads.filter { $0.path.hasPrefix(MetadataSource.tags.path + "/") }.count
    }

    @Test func anUnchangedKeyListReadsOnePath() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web", "team": "core"])
        var cache = TagReadCache(refreshPolls: 15)
        for _ in 0..<5 {
            #expect(
                await MetadataSource.tags.read(from: reader, tagCache: &cache)
                    == .value(.tags(["Name": "web", "team": "core"])))
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
        #expect(
            await MetadataSource.tags.read(from: reader, tagCache: &cache)
                == .value(.tags(["Name": "db", "team": "core"])))
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
        #expect(
            seen == [
                .value(.tags(["Name": "web"])), .value(.tags(["Name": "web"])), .value(.tags(["Name": "web"])),
                .value(.tags(["Name": "db"])),
            ])
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

    @Test func valuesAreNeverAnsweredOlderThanTheirMaximumAge() {
        #expect(TagReadCache().refreshPolls == 1, "at the default tags interval (60 s) every poll reads every value")
        #expect(TagReadCache(interval: .seconds(60)).refreshPolls == 1)
        #expect(TagReadCache(interval: .seconds(300)).refreshPolls == 1)
        #expect(TagReadCache(interval: .seconds(7)).refreshPolls == 8, "8 × 7 s = 56 s ≤ 60 s")
        #expect(TagReadCache(interval: .seconds(5)).refreshPolls == 12)
        #expect(TagReadCache(interval: .seconds(2)).refreshPolls == 15, "at most every 15th poll: 30 s")
        #expect(TagReadCache(interval: .milliseconds(50)).refreshPolls == 15)
    }

    @Test func atTheDefaultIntervalAValueChangeIsReadOnTheNextPoll() async {
        let reader = FakeMetadataReader()
        reader.tags(["Name": "web", "team": "core"])
        var cache = TagReadCache()
        #expect(
            await MetadataSource.tags.read(from: reader, tagCache: &cache)
                == .value(.tags(["Name": "web", "team": "core"])))
        reader.tags(["Name": "drain", "team": "core"])
        #expect(
            await MetadataSource.tags.read(from: reader, tagCache: &cache)
                == .value(.tags(["Name": "drain", "team": "core"])))
    }
}

/// The poller, on a manual clock at the default tags interval, fires a tag change on the next tags poll.
@Suite("Tags at the default interval", .timeLimit(.minutes(1)))
struct TagsAtTheDefaultIntervalTests {
    @Test func aValueChangeAnAddedAndARemovedKeyFireOnTheNextTagsPoll() async {
        let interval = MetadataSource.tags.defaultInterval
        let harness = PollerHarness(sources: [.tags], interval: interval)
        harness.reader.tags(["Name": "web", "team": "core"])
        await harness.start()
        #expect(harness.sink.events.isEmpty, "the first run records tags silently")

        harness.reader.tags(["Name": "drain", "team": "core"])
        await harness.advance(by: interval, step: interval)
        #expect(harness.sink.events.count == 1, "a changed value is fired on the next tags poll, 60 s later")
        #expect(harness.sink.events.last?.detail.dataJSON["changed"]?["Name"] == ["from": "web", "to": "drain"])

        harness.reader.tags(["Name": "drain", "owner": "ops"])
        await harness.advance(by: interval, step: interval)
        await harness.stop()
        #expect(harness.sink.events.map(\.type) == [.tagsChanged, .tagsChanged])
        #expect(harness.sink.events.last?.detail.dataJSON["added"] == ["owner": "ops"])
        #expect(harness.sink.events.last?.detail.dataJSON["removed"] == ["team": "core"])
        let polls = harness.reader.reads(of: MetadataSource.tags.path)
        #expect(polls == [.zero, interval, interval * 2], "one poll per interval")
    }
}
