@testable import Events
import FuzzSupport

/// `JSONDocument.parse` and `embed`: never crash; a parsed document serializes to JSON that parses to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    _ = JSONDocument.embed(text).serialized()
    do {
        let value = try JSONDocument.parse(text)
        let serialized = value.serialized()
        let again: JSONValue
        do {
            again = try JSONDocument.parse(serialized)
        } catch {
            invariant(false, "serialized form does not parse (\(error)): \(serialized)")
            return 0
        }
        if allFinite(value) { invariant(again == value, "round trip changed the value: \(serialized)") }
    } catch {
        _ = error.description
    }
    return 0
}

/// Numbers beyond Double's range parse as infinities, which serialize as `null` by design.
func allFinite(_ value: JSONValue) -> Bool {
    switch value {
    case .number(let number): number.isFinite
    case .array(let values): values.allSatisfy(allFinite)
    case .object(let members): members.allSatisfy { allFinite($0.1) }
    case .null, .bool, .string: true
    }
}
