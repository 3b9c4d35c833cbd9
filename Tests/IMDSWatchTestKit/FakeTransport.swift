public import HTTP
import Synchronization

/// An ``HTTPTransport`` that answers from a script and records every request.
public final class FakeTransport: HTTPTransport, Sendable {
    /// Decides the outcome of one request.
    public typealias Responder = @Sendable (HTTPRequest) -> Result<HTTPResponse, HTTPError>

    private let responder: Responder
    private let log = Mutex<[HTTPRequest]>([])

    /// Creates a transport that answers each request with `responder`.
    public init(responder: @escaping Responder) {
        self.responder = responder
    }

    public func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        log.withLock { $0.append(request) }
        return try responder(request).get()
    }

    /// Every request sent so far, in order.
    public var requests: [HTTPRequest] {
        log.withLock { $0 }
    }
}

/// A clock whose time moves only when told to, or when someone sleeps on it (sleeping advances it at once).
///
/// Tests stay fast and deterministic: a retry backoff of 2 s takes no real time but moves `now` by 2 s.
public final class SteppingClock: Clock, Sendable {
    public typealias Duration = Swift.Duration

    /// An instant on a ``SteppingClock``.
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Swift.Duration
        public func advanced(by duration: Swift.Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Swift.Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Mutex(Instant(offset: .zero))
    private let sleeps = Mutex<[Swift.Duration]>([])

    /// Creates a clock at offset zero.
    public init() {}

    public var now: Instant { current.withLock { $0 } }
    public var minimumResolution: Swift.Duration { .nanoseconds(1) }

    /// Moves time forward.
    public func advance(by duration: Swift.Duration) {
        current.withLock { $0 = $0.advanced(by: duration) }
    }

    /// Every duration slept so far.
    public var sleptDurations: [Swift.Duration] { sleeps.withLock { $0 } }

    public func sleep(until deadline: Instant, tolerance: Swift.Duration?) async throws {
        try Task.checkCancellation()
        current.withLock { now in
            sleeps.withLock { $0.append(now.duration(to: deadline)) }
            if now < deadline { now = deadline }
        }
    }
}
