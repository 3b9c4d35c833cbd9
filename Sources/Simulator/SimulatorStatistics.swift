/// Counters of what the simulator has served since it started or was last reset.
public struct SimulatorStatistics: Sendable, Codable, Equatable {
    /// `PUT` requests on a token path, whatever their outcome.
    public var tokenRequests: Int = 0
    /// `GET` requests on IMDS paths (not the control API), whatever their outcome.
    public var getRequests: Int = 0
    /// TCP connections accepted (a kept-alive connection counts once).
    public var connectionsAccepted: Int = 0
    /// IMDS requests per path relative to `/latest/` (e.g. `meta-data/spot/instance-action`, `api/token`).
    public var requestsByPath: [String: Int] = [:]
    /// IMDS answers per status code (as a string, e.g. `"401"`); faults that send no answer are not counted.
    public var responsesByStatus: [String: Int] = [:]
    /// Requests on the control API.
    public var controlRequests: Int = 0

    /// Creates zeroed counters.
    public init() {}

    /// Requests seen on `path` (relative to `/latest/`).
    /// - Parameter path: The path, e.g. `meta-data/spot/instance-action`.
    /// - Returns: The count, 0 when never requested.
    public func requests(on path: String) -> Int {
        requestsByPath[Fault.normalize(path)] ?? 0
    }
}
