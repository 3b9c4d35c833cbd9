import HTTP
import Synchronization

/// Sends a request so that the waiting task can give up on cancellation.
///
/// A cancelled caller stops waiting at once. The transfer itself is not aborted: ``HTTP/CurlTransport`` aborts a
/// transfer when the task that sends it is cancelled (`CurlCancellationTests`), but here the send runs in an
/// unstructured task that the caller's cancellation does not reach, so the transfer goes on in the background until
/// it ends or times out, its result discarded. The delivery is then still in the outbox and is sent again by the
/// next run: at least once, possibly twice.
enum CancellableSend {
    /// The transport's result, or `nil` when the calling task was cancelled first.
    static func send(_ request: HTTPRequest, over transport: any HTTPTransport) async -> Result<HTTPResponse, HTTPError>? {
        let waiter = Waiter()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>?, Never>) in
                guard waiter.install(continuation) else { return }
                Task {
                    let result: Result<HTTPResponse, HTTPError>
                    do throws(HTTPError) {
                        result = .success(try await transport.send(request))
                    } catch {
                        result = .failure(error)
                    }
                    waiter.finish(result)
                }
            }
        } onCancel: {
            waiter.finish(nil)
        }
    }

    /// Resumes its continuation exactly once, with whichever comes first: the result or the cancellation.
    private final class Waiter: Sendable {
        private enum State {
            case waiting
            case installed(CheckedContinuation<Result<HTTPResponse, HTTPError>?, Never>)
            case finished
        }

        private let state = Mutex<State>(.waiting)

        /// Stores the continuation; `false` (after resuming it with `nil`) when cancellation already happened.
        func install(_ continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>?, Never>) -> Bool {
            let installed = state.withLock { state -> Bool in
                guard case .waiting = state else { return false }
                state = .installed(continuation)
                return true
            }
            if !installed { continuation.resume(returning: nil) }
            return installed
        }

        func finish(_ result: Result<HTTPResponse, HTTPError>?) {
            let continuation = state.withLock { state -> CheckedContinuation<Result<HTTPResponse, HTTPError>?, Never>? in
                switch state {
                case .waiting:
                    state = .finished
                    return nil
                case .installed(let continuation):
                    state = .finished
                    return continuation
                case .finished:
                    return nil
                }
            }
            continuation?.resume(returning: result)
        }
    }
}
