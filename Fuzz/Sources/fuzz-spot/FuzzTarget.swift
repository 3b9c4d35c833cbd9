@testable import Events
import FuzzSupport
@testable import IMDS

/// `meta-data/spot/instance-action` bodies: never crash; a decoded notice is well-formed and decodes again to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let notice = try SpotInterruption.decode(body)
        invariant(!notice.action.isEmpty && notice.action.utf8.count <= 64, "action \(notice.action)")
        invariant(notice.action == notice.action.lowercased(), "action not lower-cased: \(notice.action)")
        invariant(isNormalizedDate(notice.time.rfc3339), "time not normalized: \(notice.time)")
        let json = notice.json.serialized()
        let again = mustDecode("notice \(json)") { try SpotInterruption.decode(json) }
        invariant(again == notice, "notice does not round-trip: \(json) -> \(again)")
    } catch {
        _ = error.description
    }
    return 0
}
