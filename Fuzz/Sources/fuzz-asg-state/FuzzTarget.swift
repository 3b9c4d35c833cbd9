import FuzzSupport
@testable import IMDS

/// `meta-data/autoscaling/target-lifecycle-state` bodies: never crash; a decoded state is one bounded word that
/// decodes to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let state = try LifecycleState.decode(body)
        invariant(!state.isEmpty && state.utf8.count <= 64, "state \(state)")
        let again = mustDecode("state \(state)") { try LifecycleState.decode(state) }
        invariant(again == state, "state does not round-trip: \(state)")
    } catch {
        _ = error.description
    }
    return 0
}
