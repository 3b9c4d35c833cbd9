import FuzzSupport
import IMDS

/// `meta-data/events/maintenance/scheduled` bodies: never crash; decoded lists are bounded, without duplicate ids,
/// with normalized dates.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = fuzzString(data, size)
    do {
        let events = try ScheduledMaintenanceEvent.decodeList(body)
        invariant(events.count <= ScheduledMaintenanceEvent.maxEvents, "\(events.count) events")
        invariant(Set(events.map(\.eventID)).count == events.count, "duplicate event ids")
        for event in events {
            invariant(!event.eventID.isEmpty && event.eventID.utf8.count <= 256, "event id \(event.eventID)")
            invariant(isNormalizedDate(event.notBefore), "NotBefore \(event.notBefore)")
            invariant(isNormalizedDate(event.notAfter), "NotAfter \(event.notAfter)")
            if let deadline = event.notBeforeDeadline { invariant(isNormalizedDate(deadline), "NotBeforeDeadline \(deadline)") }
        }
    } catch {
        _ = error.description
    }
    return 0
}
