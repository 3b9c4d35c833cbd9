import Events
import IMDS
import IMDSWatchTestKit
import Synchronization
import Watch

/// An in-memory IMDS: paths answer a body, 404, or an error; an outage makes every read fail while the
/// answers underneath can still change.
final class FakeMetadataReader: MetadataReader {
    enum Answer: Sendable {
        case body(String)
        case error(IMDSError.Code)
    }

    private struct State {
        var answers: [String: Answer] = [:]
        var outage: IMDSError.Code?
        var reads: [(path: String, at: Duration)] = []
        var delay: Duration = .zero
        var delays: [String: Duration] = [:]
    }

    private let state = Mutex(State())
    private let clock: ManualClock?

    /// - Parameter clock: When given, reads take ``delay`` on this clock and are time-stamped with it.
    init(clock: ManualClock? = nil) {
        self.clock = clock
        set(MetadataPath.identityDocument, FakeMetadataReader.identityBody)
    }

    static let identityBody = """
        {"accountId": "123456789012", "availabilityZone": "eu-west-1b", "instanceId": "i-0123456789abcdef0",
         "instanceType": "m5.large", "region": "eu-west-1", "kernelId": null}
        """

    func set(_ path: String, _ body: String?) {
        state.withLock { $0.answers[path] = body.map(Answer.body) }
    }

    func fail(_ path: String, _ code: IMDSError.Code = .serverError) {
        state.withLock { $0.answers[path] = .error(code) }
    }

    /// Every read fails with `code` (nil ends the outage).
    func outage(_ code: IMDSError.Code?) {
        state.withLock { $0.outage = code }
    }

    /// How long every read takes on the clock (``setDelay(_:for:)`` overrides it per path).
    var delay: Duration {
        get { state.withLock { $0.delay } }
        set { state.withLock { $0.delay = newValue } }
    }

    func setDelay(_ delay: Duration, for path: String) {
        state.withLock { $0.delays[path] = delay }
    }

    /// Paths read so far, with the clock's time at the start of each read.
    var reads: [(path: String, at: Duration)] { state.withLock { $0.reads } }

    func reads(of path: String) -> [Duration] {
        reads.filter { $0.path == path }.map(\.at)
    }

    func text(_ path: String) async throws(IMDSError) -> String? {
        let now = clock?.now.offset ?? .zero
        let (answer, outage, delay) = state.withLock { state in
            state.reads.append((path, now))
            return (state.answers[path], state.outage, state.delays[path] ?? state.delay)
        }
        if let clock, delay > .zero { try? await clock.sleep(for: delay) }
        if let outage { throw Self.error(outage, path) }
        switch answer {
        case nil: return nil
        case .body(let body)?: return body
        case .error(let code)?: throw Self.error(code, path)
        }
    }

    static func error(_ code: IMDSError.Code, _ path: String) -> IMDSError {
        IMDSError(
            code: code, path: path, endpoint: "http://127.0.0.1:1", status: code == .serverError ? 503 : nil,
            message: "fake IMDS failure \(code.rawValue) for \(path)")
    }

    // MARK: Convenience setters

    func spot(_ action: String?, _ time: String = "2026-11-24T12:00:00Z") {
        set(MetadataSource.spot.path, action.map { "{\"action\": \"\($0)\", \"time\": \"\(time)\"}" })
    }

    func rebalance(_ noticeTime: String?) {
        set(MetadataSource.rebalance.path, noticeTime.map { "{\"noticeTime\": \"\($0)\"}" })
    }

    func asg(_ state: String?) {
        set(MetadataSource.asg.path, state.map { $0 + "\n" })
    }

    /// Sets the tag key list and every value; nil turns tags off (404).
    func tags(_ tags: [String: String]?) {
        let old = state.withLock { $0.answers.keys.filter { $0.hasPrefix(MetadataSource.tags.path + "/") } }
        for path in old { set(path, nil) }
        guard let tags else { return set(MetadataSource.tags.path, nil) }
        set(MetadataSource.tags.path, tags.keys.sorted().joined(separator: "\n"))
        for (key, value) in tags { set(InstanceTags.valuePath(key), value) }
    }

    /// Sets the maintenance list from (id, state, notBefore) triples; nil is a 404.
    func maintenance(_ events: [(id: String, state: String, notBefore: String)]?) {
        guard let events else { return set(MetadataSource.maintenance.path, nil) }
        let items = events.map { event in
            "{\"NotBefore\": \"\(event.notBefore)\", \"Code\": \"system-reboot\", \"Description\": \"scheduled reboot\", "
                + "\"EventId\": \"\(event.id)\", \"NotAfter\": \"21 Jan 2030 09:17:23 GMT\", \"State\": \"\(event.state)\"}"
        }
        set(MetadataSource.maintenance.path, "[" + items.joined(separator: ",") + "]")
    }
}
