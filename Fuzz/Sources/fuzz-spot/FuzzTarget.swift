import Events
import FuzzSupport
import IMDS

/// `meta-data/spot/instance-action` bodies: never crash; a decoded notice is well-formed and decodes again to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let notice = try SpotInstanceAction.decode(body)
        invariant(!notice.action.isEmpty && notice.action.utf8.count <= 64, "action \(notice.action)")
        invariant(notice.action == notice.action.lowercased(), "action not lower-cased: \(notice.action)")
        invariant(isNormalizedDate(notice.time), "time not normalized: \(notice.time)")
        let json = JSONValue.object([("action", .string(notice.action)), ("time", .string(notice.time))]).serialized()
        let again = mustDecode("notice \(json)") { try SpotInstanceAction.decode(json) }
        invariant(again == notice, "notice does not round-trip: \(json) -> \(again)")
    } catch {
        _ = error.description
    }
    return 0
}
