import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A strict IMDSv2 simulator listening on a local address, with a control API under `/_sim/`.
///
/// Serves the lifecycle paths of the EC2 Instance Metadata Service from a ``SimulatorState`` with real token
/// rules, HTTP/1.1 keep-alive, injectable ``Fault``s and ``Scenario`` playback. Thread-safe: every method may be
/// called from any task while requests are served. Call ``stop()`` when done; it closes every connection.
package final class IMDSSimulator: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let core: SimulatorCore
    private let control: ControlAPI
    private let host: String
    private let stopped = Mutex(false)

    /// The port it listens on.
    package let port: Int

    private init(
        group: MultiThreadedEventLoopGroup, channel: any Channel, core: SimulatorCore, control: ControlAPI,
        host: String, port: Int
    ) {
        self.group = group
        self.channel = channel
        self.core = core
        self.control = control
        self.host = host
        self.port = port
    }

    /// Starts a simulator.
    /// - Parameters:
    ///   - host: A local address to bind: `127.0.0.1`, `::1` or another address of this machine (never a remote one).
    ///   - port: The port; 0 picks a free ephemeral port (read it back from ``port``).
    ///   - state: The initial state (also what `DELETE /_sim/state` restores).
    ///   - limits: The listen backlog and the most connections open at once (default: 256, unlimited).
    /// - Returns: The running simulator.
    /// - Throws: NIO's `IOError` or `SocketAddressError` when the address cannot be bound (in use, not local, invalid).
    package static func start(
        host: String = "127.0.0.1", port: Int = 0, state: SimulatorState = .init(), limits: ListenerLimits = .init()
    ) async throws -> IMDSSimulator {
        let core = SimulatorCore(state: state)
        let control = ControlAPI(core: core, initialState: state)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(clamping: limits.backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accept one connection per read when limited, so that the limiter pauses the listener at the limit.
            .serverChannelOption(.maxMessagesPerRead, value: UInt(limits.connectionLimit == nil ? 4 : 1))
            .serverChannelInitializer { listener in
                guard let limit = limits.connectionLimit else { return listener.eventLoop.makeSucceededVoidFuture() }
                return listener.eventLoop.makeCompletedFuture {
                    try listener.pipeline.syncOperations.addHandler(ConnectionLimiter(limit: limit))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                core.countConnection()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimulatorHTTPHandler(core: core, control: control))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let boundPort = channel.localAddress?.port ?? port
        return IMDSSimulator(group: group, channel: channel, core: core, control: control, host: host, port: boundPort)
    }

    /// The base URL clients use: `http://127.0.0.1:PORT`, or `http://[::1]:PORT` for an IPv6 address.
    package var baseURL: String {
        host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// The current state.
    package var state: SimulatorState {
        core.state
    }

    /// Changes the state atomically; the next request sees the change.
    /// - Parameter change: Mutates the state in place (runs under the simulator's lock: keep it short).
    package func update(_ change: @Sendable (inout SimulatorState) -> Void) {
        core.update(change)
    }

    /// Applies a JSON merge patch to the state, as `PUT /_sim/state` does.
    /// - Parameter patch: The patch.
    /// - Throws: ``SimulatorInputError`` naming the field; the state is then unchanged.
    package func apply(patch: PatchValue) throws(SimulatorInputError) {
        _ = try core.apply(patch: patch)
    }

    /// Forgets every token issued so far: the next GET with one of them answers 401.
    package func invalidateTokens() {
        core.invalidateTokens()
    }

    /// Adds a fault; faults are matched in the order they were added, the first match applies.
    /// - Parameter fault: The fault.
    package func inject(_ fault: Fault) {
        core.inject(fault)
    }

    /// Removes every fault.
    package func clearFaults() {
        core.clearFaults()
    }

    /// The faults still active (counted ones disappear when used up).
    package var faults: [Fault] {
        core.faults
    }

    /// What has been served since start or the last ``resetStatistics()``.
    package var statistics: SimulatorStatistics {
        core.statistics
    }

    /// Sets every counter back to zero.
    package func resetStatistics() {
        core.resetStatistics()
    }

    /// Plays a scenario from now and returns when its last step has been applied.
    /// - Parameters:
    ///   - scenario: The timeline.
    ///   - onStep: Called after each step is applied (for example to report its note).
    /// - Throws: `CancellationError` when the calling task is cancelled; ``SimulatorInputError`` when a step's
    ///   `set` does not apply (the earlier steps stay applied).
    package func play(_ scenario: Scenario, onStep: @Sendable (Scenario.Step) -> Void = { _ in }) async throws {
        try await core.play(scenario, onStep: onStep)
    }

    /// Stops listening, closes every connection (hung requests included) and releases the event loop thread.
    /// - Throws: An error from closing the listener or shutting down the event loop; calling it twice is harmless.
    package func stop() async throws {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        if alreadyStopped { return }
        control.cancelBackgroundScenario()
        try? await channel.close()
        try await group.shutdownGracefully()
    }
}
