import Foundation
import Synchronization

/// The simulator's mutable parts (state, tokens, faults, counters) behind one lock, shared by every connection.
final class SimulatorCore: Sendable {
    private struct Shared: Sendable {
        var state: SimulatorState
        var tokens: [String: ContinuousClock.Instant] = [:]
        var faults: [Fault] = []
        var statistics = SimulatorStatistics()
    }

    private let shared: Mutex<Shared>
    /// The simulated instance profile credentials and Auto Scaling endpoint.
    let aws = SimulatedAWS()

    init(state: SimulatorState) {
        shared = Mutex(Shared(state: state))
    }

    // MARK: State

    var state: SimulatorState {
        shared.withLock { $0.state }
    }

    func update(_ change: (inout SimulatorState) -> Void) {
        shared.withLock { change(&$0.state) }
    }

    /// Applies a merge patch atomically; `checked: false` lets it make a state real EC2 cannot have.
    func apply(patch: PatchValue, checked: Bool = true) throws(SimulatorInputError) -> SimulatorState {
        let result: Result<SimulatorState, SimulatorInputError> = shared.withLock { shared in
            do throws(SimulatorInputError) {
                shared.state = try shared.state.applying(patch, checked: checked)
                return .success(shared.state)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    // MARK: Tokens

    /// Issues a token living `seconds` (capped by `maxTokenTTL`); returns it and the granted TTL.
    func issueToken(ttlSeconds: Int) -> (token: String, granted: Int) {
        let token = SimulatorCore.randomToken()
        return shared.withLock { shared in
            let granted = min(ttlSeconds, max(1, shared.state.maxTokenTTL ?? ttlSeconds))
            let now = ContinuousClock.now
            shared.tokens = shared.tokens.filter { $0.value > now }
            shared.tokens[token] = now.advanced(by: .seconds(granted))
            return (token, granted)
        }
    }

    /// The whole seconds `token` has left (at least 1), or `nil` when it is unknown or expired.
    func remainingSeconds(of token: String) -> Int? {
        let now = ContinuousClock.now
        guard let expiry = shared.withLock({ $0.tokens[token] }), expiry > now else { return nil }
        let (seconds, attoseconds) = (expiry - now).components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    func invalidateTokens() {
        shared.withLock { $0.tokens.removeAll() }
    }

    private static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<42).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "AQAEA" + Data(bytes).base64EncodedString()
    }

    // MARK: Faults

    func inject(_ fault: Fault) {
        shared.withLock { $0.faults.append(fault) }
    }

    func clearFaults() {
        shared.withLock { $0.faults.removeAll() }
    }

    var faults: [Fault] {
        shared.withLock { $0.faults }
    }

    /// The first fault matching `path`, counting this use (a counted fault is removed when used up).
    func takeFault(for path: String) -> Fault.Kind? {
        shared.withLock { shared in
            guard let index = shared.faults.firstIndex(where: { $0.matches(path) }) else { return nil }
            let kind = shared.faults[index].kind
            if let count = shared.faults[index].count {
                if count <= 1 {
                    shared.faults.remove(at: index)
                } else {
                    shared.faults[index].count = count - 1
                }
            }
            return kind
        }
    }

    // MARK: Statistics

    var statistics: SimulatorStatistics {
        shared.withLock { $0.statistics }
    }

    func resetStatistics() {
        shared.withLock { $0.statistics = SimulatorStatistics() }
    }

    func countConnection() {
        shared.withLock { $0.statistics.connectionsAccepted += 1 }
    }

    func countControlRequest() {
        shared.withLock { $0.statistics.controlRequests += 1 }
    }

    /// Counts one IMDS request: by method and by path.
    func countRequest(path: String, isTokenRequest: Bool, isGet: Bool) {
        shared.withLock { shared in
            if isTokenRequest { shared.statistics.tokenRequests += 1 }
            if isGet { shared.statistics.getRequests += 1 }
            shared.statistics.requestsByPath[path, default: 0] += 1
        }
    }

    func countResponse(status: Int) {
        shared.withLock { $0.statistics.responsesByStatus[String(status), default: 0] += 1 }
    }
}
