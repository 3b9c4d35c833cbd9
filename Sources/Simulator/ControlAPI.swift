import Foundation
import NIOHTTP1
import Synchronization

/// The control API under `/_sim/`: read and change state, faults, tokens, statistics and scenarios.
///
/// Every answer is JSON; bad input gets 400 with `{"error": "one line"}`. No token is needed.
final class ControlAPI: Sendable {
    let core: SimulatorCore
    private let initialState: SimulatorState
    private let background = Mutex<Task<Void, Never>?>(nil)

    init(core: SimulatorCore, initialState: SimulatorState) {
        self.core = core
        self.initialState = initialState
    }

    /// Cancels a scenario started through `POST /_sim/scenario`.
    func cancelBackgroundScenario() {
        background.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// The answer to one control request.
    func respond(method: HTTPMethod, uri: String, body: [UInt8]) -> SimulatorResponse {
        let path =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        let route = path.split(separator: "/").dropFirst().joined(separator: "/")
        switch (route, method) {
        case ("", .GET):
            return .json(.ok, Self.index)
        case ("state", .GET):
            return .json(.ok, core.state.jsonText())
        case ("state", .PUT), ("state", .PATCH):
            do {
                let patch = try SimulatorCoding.decoder().decode(PatchValue.self, from: Data(body))
                return .json(.ok, try core.apply(patch: patch, checked: !ControlAPI.isUnchecked(uri)).jsonText())
            } catch let error as SimulatorInputError {
                return .controlError(.badRequest, error.message)
            } catch {
                return .controlError(.badRequest, "invalid JSON: \(SimulatorCoding.describe(error))")
            }
        case ("user-data", .PUT):
            return setUserData(body, checked: !ControlAPI.isUnchecked(uri))
        case ("user-data", .DELETE), ("user-data/clear", .POST):
            core.update { $0.userData = nil }
            return .json(.ok, "{\"userData\": null}")
        case ("state", .DELETE), ("state/reset", .POST):
            core.update { $0 = initialState }
            return .json(.ok, core.state.jsonText())
        case ("faults", .GET):
            return .json(.ok, encode(core.faults))
        case ("faults", .POST):
            let decoder = SimulatorCoding.decoder()
            let faults: [Fault]
            do {
                if body.first(where: { !$0.isWhitespace }) == UInt8(ascii: "[") {
                    faults = try decoder.decode([Fault].self, from: Data(body))
                } else {
                    faults = [try decoder.decode(Fault.self, from: Data(body))]
                }
            } catch {
                return .controlError(.badRequest, "invalid fault: \(SimulatorCoding.describe(error))")
            }
            faults.forEach(core.inject)
            return .json(.ok, encode(core.faults))
        case ("faults", .DELETE), ("faults/clear", .POST):
            core.clearFaults()
            return .json(.ok, "[]")
        case ("tokens/invalidate", .POST):
            core.invalidateTokens()
            return .json(.ok, "{\"invalidated\": true}")
        case ("stats", .GET):
            return .json(.ok, encode(core.statistics))
        case ("stats", .DELETE), ("stats/reset", .POST):
            core.resetStatistics()
            return .json(.ok, encode(core.statistics))
        case ("scenario", .POST):
            return startScenario(body)
        case ("scenario", .DELETE), ("scenario/cancel", .POST):
            cancelBackgroundScenario()
            return .json(.ok, "{\"cancelled\": true}")
        case ("", _), ("state", _), ("user-data", _), ("faults", _), ("tokens/invalidate", _), ("stats", _),
            ("scenario", _),
            ("state/reset", _), ("user-data/clear", _), ("faults/clear", _), ("stats/reset", _), ("scenario/cancel", _):
            return .controlError(.methodNotAllowed, "\(method.rawValue) is not allowed on \(path)")
        default:
            return .controlError(.notFound, "no control endpoint \(path); GET /_sim/ lists them")
        }
    }

    private func startScenario(_ body: [UInt8]) -> SimulatorResponse {
        let scenario: Scenario
        do throws(SimulatorInputError) {
            scenario = try Scenario(json: body)
        } catch {
            return .controlError(.badRequest, error.message)
        }
        let core = self.core
        background.withLock { task in
            task?.cancel()
            task = Task { try? await core.play(scenario) { _ in } }
        }
        return .json(.accepted, "{\"steps\": \(scenario.steps.count)}")
    }

    private func encode(_ value: some Encodable) -> String {
        guard let data = try? SimulatorCoding.encoder().encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    private static let index = """
        {"endpoints": ["GET /_sim/state", "PUT /_sim/state", "DELETE /_sim/state", "PUT /_sim/user-data", "DELETE /_sim/user-data", "GET /_sim/faults", \
        "POST /_sim/faults", "DELETE /_sim/faults", "POST /_sim/tokens/invalidate", "GET /_sim/stats", \
        "DELETE /_sim/stats", "POST /_sim/scenario", "DELETE /_sim/scenario"], \
        "postAliases": ["POST /_sim/state/reset", "POST /_sim/user-data/clear", "POST /_sim/faults/clear", "POST /_sim/stats/reset", \
        "POST /_sim/scenario/cancel"]}
        """
}

extension UInt8 {
    /// Whether the byte is JSON white space.
    fileprivate var isWhitespace: Bool {
        self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D
    }
}
