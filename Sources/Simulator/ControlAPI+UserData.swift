import Foundation
import NIOHTTP1

extension ControlAPI {
    /// Whether a control URI asks to serve a state real EC2 cannot have (`?unchecked=true`), as a fault.
    static func isUnchecked(_ uri: String) -> Bool {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return false }
        return query.split(separator: "&").contains {
            $0 == "unchecked" || $0 == "unchecked=true" || $0 == "unchecked=1"
        }
    }

    /// `PUT /_sim/user-data`: the raw body, any bytes, becomes the user data.
    func setUserData(_ body: [UInt8], checked: Bool) -> SimulatorResponse {
        do throws(SimulatorInputError) {
            let patch = PatchValue.object(["userData": .string(Data(body).base64EncodedString())])
            let state = try core.apply(patch: patch, checked: checked)
            return .json(.ok, "{\"userDataBytes\": \(state.userData?.count ?? 0)}")
        } catch {
            return .controlError(.badRequest, error.message)
        }
    }
}
