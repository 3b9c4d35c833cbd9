import HTTP
import Synchronization

/// An ``HTTPTransport`` that answers from a script and records every request (and, given a clock, when it came).
package final class FakeTransport: HTTPTransport, Sendable {
    /// Decides the outcome of one request.
    package typealias Responder = @Sendable (HTTPRequest) -> Result<HTTPResponse, HTTPError>

    /// One scripted outcome.
    package enum Answer: Sendable {
        /// A response with this status and these headers (and no body).
        case status(Int, [HTTPHeader] = [])
        /// A transport error with this code.
        case error(HTTPError.Code)
    }

    private struct Log {
        var requests: [HTTPRequest] = []
        var arrivals: [ManualClock.Instant] = []
    }

    private let responder: Responder
    private let clock: ManualClock?
    private let log = Mutex(Log())

    /// Creates a transport that answers each request with `responder`.
    /// - Parameters:
    ///   - clock: When given, each request's arrival is read from it (``arrivals``).
    ///   - responder: Decides each outcome.
    package init(clock: ManualClock? = nil, responder: @escaping Responder) {
        self.clock = clock
        self.responder = responder
    }

    /// Creates a transport that gives `answers` in order, then 200 to every further request.
    /// - Parameters:
    ///   - clock: When given, each request's arrival is read from it (``arrivals``).
    ///   - answers: The outcomes of the first requests.
    package convenience init(clock: ManualClock? = nil, answers: [Answer]) {
        let script = Locked(answers)
        self.init(clock: clock) { request in
            var answer = Answer.status(200)
            script.update { answers in
                if !answers.isEmpty { answer = answers.removeFirst() }
            }
            switch answer {
            case .status(let status, let headers):
                return .success(HTTPResponse(status: status, headers: headers))
            case .error(let code):
                return .failure(HTTPError(code: code, detail: "scripted", url: request.url))
            }
        }
    }

    package func send(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        log.withLock { log in
            log.requests.append(request)
            if let clock { log.arrivals.append(clock.now) }
        }
        return try responder(request).get()
    }

    /// Every request sent so far, in order.
    package var requests: [HTTPRequest] {
        log.withLock { $0.requests }
    }

    /// When each request of ``requests`` arrived, on the clock given at creation (empty without one).
    package var arrivals: [ManualClock.Instant] {
        log.withLock { $0.arrivals }
    }
}
