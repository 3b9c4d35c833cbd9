import FuzzSupport
@testable import IMDS

/// `dynamic/instance-identity/document` bodies: never crash; decoding is deterministic.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let document = try InstanceIdentityDocument.decode(body)
        let again = mustDecode("the same body") { try InstanceIdentityDocument.decode(body) }
        invariant(again == document, "decoding is not deterministic")
    } catch {
        _ = error.description
    }
    return 0
}
