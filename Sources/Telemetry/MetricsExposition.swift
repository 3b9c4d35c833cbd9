import Prometheus
import Synchronization

/// The daemon's metrics registry and its Prometheus text exposition (format 0.0.4), shared by the `/metrics`
/// listener and the textfile writer.
///
/// Holds a swift-prometheus `PrometheusCollectorRegistry` of its own (never the process-wide default), so tests and
/// daemons never share one. ``telemetry`` records into it.
package final class MetricsExposition: Sendable {
    /// The `Content-Type` of the exposition.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The registry every metric lives in.
    package let registry: PrometheusCollectorRegistry
    /// Records into ``registry``; each recorded event wakes ``changes``.
    package let telemetry: Telemetry
    /// Yields after each recorded event (keeps only the newest signal); one reader: the textfile writer.
    package let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation
    private let refreshers = Mutex<[@Sendable () async -> Void]>([])

    /// Creates an empty registry.
    package init() {
        let registry = PrometheusCollectorRegistry()
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.registry = registry
        self.changes = changes
        self.changed = changed
        self.telemetry = Telemetry(factory: CatalogueMetricsFactory(registry: registry), onEvent: { changed.yield() })
    }

    /// Adds work to run before each exposition: sampling a value that is cheaper to read than to track (the
    /// webhook outbox's size).
    /// - Parameter refresh: Sets one or more gauges through ``telemetry``; must be quick.
    package func addRefresh(_ refresh: @escaping @Sendable () async -> Void) {
        refreshers.withLock { $0.append(refresh) }
    }

    /// Asks the textfile writer for a write now (as an event does).
    package func signalChange() {
        changed.yield()
    }

    /// Runs the refreshers, then renders every metric.
    /// - Returns: The exposition, UTF-8 text in the Prometheus text format 0.0.4.
    package func render() async -> [UInt8] {
        for refresh in refreshers.withLock({ $0 }) { await refresh() }
        return registry.emitToBuffer()
    }
}
