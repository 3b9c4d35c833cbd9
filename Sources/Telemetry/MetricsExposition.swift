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
    private let recording: RecordingSwitch

    /// Creates an empty registry.
    /// - Parameter isRecording: Whether ``telemetry`` records from the start (``isRecording``).
    package init(isRecording: Bool = true) {
        let registry = PrometheusCollectorRegistry()
        let (changes, changed) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let recording = RecordingSwitch(isOn: isRecording)
        self.registry = registry
        self.changes = changes
        self.changed = changed
        self.recording = recording
        self.telemetry = Telemetry(
            factory: CatalogueMetricsFactory(registry: registry), onEvent: { changed.yield() }, recording: recording)
    }

    /// Whether ``telemetry`` (and every copy of it) records: the daemon keeps one registry for its whole run and
    /// records only while something exposes it (`[metrics]` configured), so that no poll pays for a registry
    /// nobody reads. While off, the series made by ``Telemetry/start(version:sources:)`` stay at their values.
    package var isRecording: Bool {
        get { recording.isOn }
        set { recording.isOn = newValue }
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
