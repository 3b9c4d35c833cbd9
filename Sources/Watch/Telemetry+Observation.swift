import Events
import IMDS
import Telemetry

extension Telemetry {
    /// Records one poll of `source`: the request result, its duration, whether the source is up, and the gauges a
    /// value sets (the spot deadline, the scheduled maintenance count). An error changes neither gauge: the last
    /// answer stands.
    /// - Parameters:
    ///   - source: The source polled.
    ///   - observation: What the poll got.
    ///   - duration: How long the read took.
    ///   - unixMilliseconds: The wall-clock time of the poll.
    func recordPoll(_ source: MetadataSource, _ observation: Observation, duration: Duration, unixMilliseconds: Int64) {
        // Before anything is computed (the spot notice's date is parsed for its gauge): not recording costs nothing.
        guard isEnabled else { return }
        let result: IMDSRequestResult =
            switch observation {
            case .value: .ok
            case .absent: .absent
            case .failed: .error
            }
        recordPoll(source: source, result: result, duration: duration, unixSeconds: Double(unixMilliseconds) / 1000)
        switch observation {
        case .value(.spot(let notice)):
            setSpotDeadline(unixSeconds: notice.time.epochSeconds.map(Double.init) ?? 0)
        case .absent where source == .spot:
            setSpotDeadline(unixSeconds: 0)
        case .value(.maintenance(let events)):
            setMaintenanceScheduled(events.count)
        default:
            break
        }
    }
}
