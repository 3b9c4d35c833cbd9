import FuzzSupport
@testable import IMDS

/// `meta-data/tags/instance` key lists and tag values: never crash; keys are bounded, valid, unique, sorted, and the
/// list they make decodes to the same keys; a value is returned unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let keys = try InstanceTags.decodeKeys(body)
        invariant(keys.count <= InstanceTags.maxKeys, "\(keys.count) keys")
        invariant(Set(keys).count == keys.count, "duplicate keys")
        invariant(zip(keys, keys.dropFirst()).allSatisfy { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "keys not sorted")
        for key in keys {
            invariant(!key.isEmpty && key.utf8.count <= 128, "key \(key)")
            invariant(!key.utf8.contains(UInt8(ascii: "/")), "key with a slash: \(key)")
        }
        let again = mustDecode("keys \(keys)") { try InstanceTags.decodeKeys(keys.joined(separator: "\n")) }
        invariant(again == keys, "keys do not round-trip")
    } catch {
        _ = error.description
    }
    do {
        let value = try InstanceTags.decodeValue(body)
        invariant(value == body, "value changed")
    } catch {
        invariant(body.utf8.count > 4096, "a short value was refused")
    }
    return 0
}
