import FuzzSupport
@testable import IMDS

/// IMDS dates (RFC 3339 and `21 Jan 2019 09:00:43 GMT`): never crash; normalizing is idempotent and keeps the instant.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    do {
        let seconds = try IMDSDate.epochSeconds(text)
        let normalized = try IMDSDate.normalize(text)
        invariant(isNormalizedDate(normalized), "not normalized: \(normalized) from \(text.debugDescription)")
        let renormalized = mustDecode("normalized date \(normalized)") { try IMDSDate.normalize(normalized) }
        invariant(renormalized == normalized, "normalize is not idempotent: \(normalized) -> \(renormalized)")
        let again = mustDecode("normalized date \(normalized)") { try IMDSDate.epochSeconds(normalized) }
        invariant(again == seconds, "instant changed: \(seconds) -> \(again) via \(normalized)")
    } catch {
        _ = error.description
    }
    return 0
}
