@testable import Events
import FuzzSupport
@testable import IMDS

/// `meta-data/events/recommendations/rebalance` bodies: never crash; a decoded notice time is normalized.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let notice = try RebalanceNotice.decode(body)
        invariant(isNormalizedDate(notice.noticeTime.rfc3339), "noticeTime not normalized: \(notice.noticeTime)")
        let again = mustDecode("notice \(notice)") { try RebalanceNotice.decode(#"{"noticeTime": "\#(notice.noticeTime)"}"#) }
        invariant(again == notice, "noticeTime does not round-trip: \(notice.noticeTime)")
    } catch {
        _ = error.description
    }
    return 0
}
