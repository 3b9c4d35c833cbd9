/// Counters of what the simulator has served since it started or was last reset.
package struct SimulatorStatistics: Sendable, Codable, Equatable {
    /// `PUT` requests on a token path, whatever their outcome.
    package var tokenRequests: Int = 0
    /// `GET` requests on IMDS paths (not the control API), whatever their outcome.
    package var getRequests: Int = 0
    /// TCP connections accepted (a kept-alive connection counts once).
    package var connectionsAccepted: Int = 0
    /// IMDS requests per path relative to `/latest/` (e.g. `meta-data/spot/instance-action`, `api/token`).
    package var requestsByPath: [String: Int] = [:]
    /// IMDS answers per status code (as a string, e.g. `"401"`); faults that send no answer are not counted.
    package var responsesByStatus: [String: Int] = [:]
    /// Requests on the control API.
    package var controlRequests: Int = 0

    /// Creates zeroed counters.
    package init() {}

    /// Requests seen on `path` (relative to `/latest/`).
    /// - Parameter path: The path, e.g. `meta-data/spot/instance-action`.
    /// - Returns: The count, 0 when never requested.
    package func requests(on path: String) -> Int {
        requestsByPath[Fault.normalize(path)] ?? 0
    }
}
