import Foundation

/// A JSON value, kept as parsed, for merge patches of ``SimulatorState`` (RFC 7396 semantics).
package enum PatchValue: Sendable, Equatable, Codable {
    /// `null`: in a patch, removes the field (an optional field becomes absent).
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number without a fraction.
    case int(Int)
    /// A number with a fraction.
    case double(Double)
    /// A string.
    case string(String)
    /// An array: in a patch, replaces the whole array.
    case array([PatchValue])
    /// An object: in a patch, merges member by member.
    case object([String: PatchValue])

    /// Decodes any JSON value.
    /// - Throws: `DecodingError` when the input is not JSON.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([PatchValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: PatchValue].self))
        }
    }

    /// Encodes the value as JSON.
    /// - Throws: `EncodingError` only for non-finite numbers.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// This value with `patch` applied: objects merge member by member, `null` removes, anything else replaces.
    /// - Parameter patch: The merge patch.
    /// - Returns: The merged value.
    package func merged(with patch: PatchValue) -> PatchValue {
        guard case .object(let changes) = patch else { return patch }
        var result: [String: PatchValue]
        if case .object(let members) = self { result = members } else { result = [:] }
        for (key, change) in changes {
            if change == .null {
                result.removeValue(forKey: key)
            } else {
                result[key] = (result[key] ?? .null).merged(with: change)
            }
        }
        return .object(result)
    }
}

/// Why a merge patch could not be applied; `message` is one line naming the field.
package struct SimulatorInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong with the input.
    package var message: String

    /// Creates an error.
    /// - Parameter message: One line naming the field and the problem.
    package init(_ message: String) {
        self.message = message
    }

    package var description: String { message }
}

extension SimulatorState {
    /// This state with a JSON merge patch applied.
    /// - Parameters:
    ///   - patch: A JSON object whose members replace fields (`null` clears an optional field; objects merge).
    ///   - checked: Whether to refuse a state real EC2 cannot have (see ``impossibility()``); `false` serves it
    ///     anyway, as a fault.
    /// - Returns: The new state.
    /// - Throws: ``SimulatorInputError`` naming the field when the patch is not an object, names an unknown field,
    ///   gives a field the wrong type, or (when `checked`) makes an impossible state; the state is then unchanged.
    package func applying(_ patch: PatchValue, checked: Bool = true) throws(SimulatorInputError) -> SimulatorState {
        guard case .object(let members) = patch else {
            throw SimulatorInputError("the state patch must be a JSON object")
        }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        if let unknown = members.keys.sorted().first(where: { !known.contains($0) }) {
            throw SimulatorInputError("unknown state field \"\(unknown)\"")
        }
        let next: SimulatorState
        do {
            let current = try SimulatorCoding.decoder().decode(
                PatchValue.self, from: SimulatorCoding.encoder().encode(self))
            let merged = current.merged(with: patch)
            next = try SimulatorCoding.decoder().decode(
                SimulatorState.self, from: SimulatorCoding.encoder().encode(merged))
        } catch {
            throw SimulatorInputError(SimulatorCoding.describe(error))
        }
        if checked, let problem = next.impossibility() {
            throw SimulatorInputError("\(problem) (add ?unchecked=true to serve it anyway, as a fault)")
        }
        return next
    }

    /// This state with a JSON merge patch applied, the patch given as JSON text.
    /// - Parameter json: The patch bytes.
    /// - Returns: The new state.
    /// - Throws: ``SimulatorInputError`` when the bytes are not JSON or the patch does not apply.
    package func applying(json: [UInt8]) throws(SimulatorInputError) -> SimulatorState {
        let patch: PatchValue
        do {
            patch = try SimulatorCoding.decoder().decode(PatchValue.self, from: Data(json))
        } catch {
            throw SimulatorInputError("invalid JSON: \(SimulatorCoding.describe(error))")
        }
        return try applying(patch)
    }

    /// The state as JSON text, the form `GET /_sim/state` answers.
    package func jsonText() -> String {
        guard let data = try? SimulatorCoding.encoder().encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
