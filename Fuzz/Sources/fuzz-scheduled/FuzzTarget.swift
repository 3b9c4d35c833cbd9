@testable import Events
import FuzzSupport
@testable import IMDS

/// `meta-data/events/maintenance/scheduled` bodies: never crash; decoded lists are bounded, without duplicate ids,
/// with normalized dates.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let events = try MaintenanceNotice.decodeList(body)
        invariant(events.count <= MaintenanceNotice.maxEvents, "\(events.count) events")
        invariant(Set(events.map(\.eventID)).count == events.count, "duplicate event ids")
        for event in events {
            invariant(!event.eventID.isEmpty && event.eventID.utf8.count <= 256, "event id \(event.eventID)")
            invariant(isNormalizedDate(event.notBefore.rfc3339), "NotBefore \(event.notBefore)")
            invariant(isNormalizedDate(event.notAfter.rfc3339), "NotAfter \(event.notAfter)")
            if let deadline = event.notBeforeDeadline { invariant(isNormalizedDate(deadline.rfc3339), "NotBeforeDeadline \(deadline)") }
        }
    } catch {
        _ = error.description
    }
    return 0
}
