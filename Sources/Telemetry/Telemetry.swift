import CoreMetrics
import Events
import Synchronization

/// What one IMDS poll of a source got: a value, a 404 meaning "none", or an error (never counted as absent).
package enum IMDSRequestResult: String, Sendable, CaseIterable {
    case ok, absent, error
}

/// How one hook run ended: exit 0, anything else, or killed after its timeout.
package enum HookRunResult: String, Sendable, CaseIterable {
    case ok, failed, timeout
}

/// What one webhook delivery attempt led to.
package enum WebhookDeliveryResult: String, Sendable, CaseIterable {
    /// The receiver accepted it.
    case delivered
    /// It failed and another attempt is scheduled.
    case retried
    /// It was given up (refused, too old, endpoint gone).
    case dropped
}

/// Records imdswatch's metrics through swift-metrics, with the names, help texts and labels of
/// ``MetricCatalogue``. A value type holding the factory: components take one (``disabled`` by default) instead of
/// reading a global `MetricsSystem`, so that each test and each daemon has its own registry.
package struct Telemetry: Sendable {
    private let onEvent: @Sendable () -> Void
    private let enabled: Bool
    private let recording: RecordingSwitch?
    private let handles: SeriesHandles

    /// Records nothing and costs nothing (each call returns at once): what components use when metrics are not
    /// configured.
    package static let disabled = Telemetry(factory: NOOPMetricsHandler.instance, enabled: false, recording: nil)

    /// Creates a recorder.
    /// - Parameters:
    ///   - factory: Where metrics go (a ``MetricsExposition``'s registry in the daemon).
    ///   - onEvent: Called after each recorded event (the textfile is rewritten at each event).
    ///   - recording: A switch that turns recording on and off for every copy at once (the daemon's registry, which
    ///     a reload may start or stop exposing); `nil` records always.
    package init(
        factory: any MetricsFactory, onEvent: @escaping @Sendable () -> Void = {}, recording: RecordingSwitch? = nil
    ) {
        self.init(factory: factory, onEvent: onEvent, enabled: true, recording: recording)
    }

    private init(
        factory: any MetricsFactory, onEvent: @escaping @Sendable () -> Void = {}, enabled: Bool,
        recording: RecordingSwitch?
    ) {
        self.onEvent = onEvent
        self.enabled = enabled
        self.recording = recording
        self.handles = SeriesHandles(factory: factory)
    }

    /// Whether a recording call records now: false for ``disabled`` and while the recording switch is off. When
    /// false each call returns at its first line (one relaxed atomic load with a switch), so a daemon whose
    /// `[metrics]` is not configured pays nothing per poll.
    package var isEnabled: Bool { enabled && (recording?.isOn ?? true) }

    private func counter(_ metric: MetricDefinition, _ values: String...) -> Counter {
        handles.counter(metric, values)
    }

    private func gauge(_ metric: MetricDefinition, _ values: String...) -> Gauge {
        handles.gauge(metric, values)
    }

    private func timer(_ metric: MetricDefinition, _ values: String...) -> CoreMetrics.Timer {
        handles.timer(metric, values)
    }

    /// Creates the series known at start-up, so that they are exported (at 0) before anything happens:
    /// `imdswatch_build_info`, every event type, the request results of the enabled sources, the gauges. Made even
    /// while the recording switch is off, so that a reload that turns metrics on exports them.
    /// - Parameters:
    ///   - version: The running version.
    ///   - sources: The enabled sources.
    package func start(version: String, sources: [MetadataSource]) {
        guard enabled else { return }
        gauge(MetricCatalogue.buildInfo, version).record(1)
        for type in EventType.allCases { counter(MetricCatalogue.events, type.rawValue).increment(by: 0) }
        for source in sources {
            for result in IMDSRequestResult.allCases {
                counter(MetricCatalogue.imdsRequests, source.rawValue, result.rawValue).increment(by: 0)
            }
            gauge(MetricCatalogue.sourceLastSuccess, source.rawValue).record(0)
        }
        for type in EventType.allCases {
            for result in HookRunResult.allCases {
                counter(MetricCatalogue.hookRuns, type.rawValue, result.rawValue).increment(by: 0)
            }
        }
        gauge(MetricCatalogue.spotDeadline).record(0)
        gauge(MetricCatalogue.maintenanceScheduled).record(0)
        gauge(MetricCatalogue.outboxPending).record(0)
    }

    /// Records one poll of a source.
    /// - Parameters:
    ///   - source: The source.
    ///   - result: What the poll got.
    ///   - duration: How long the read took.
    ///   - unixSeconds: The wall-clock time of the poll (the last-success timestamp when it got an answer).
    package func recordPoll(source: MetadataSource, result: IMDSRequestResult, duration: Duration, unixSeconds: Double)
    {
        guard isEnabled else { return }
        counter(MetricCatalogue.imdsRequests, source.rawValue, result.rawValue).increment()
        timer(MetricCatalogue.imdsRequestDuration, source.rawValue).recordNanoseconds(duration.nanoseconds)
        let answered = result != .error
        gauge(MetricCatalogue.sourceUp, source.rawValue).record(answered ? 1 : 0)
        if answered { gauge(MetricCatalogue.sourceLastSuccess, source.rawValue).record(unixSeconds) }
    }

    /// Counts one detected event and signals the textfile writer.
    /// - Parameter type: The event's type.
    package func recordEvent(_ type: EventType) {
        guard isEnabled else { return }
        counter(MetricCatalogue.events, type.rawValue).increment()
        onEvent()
    }

    /// Sets the pending spot interruption's time.
    /// - Parameter unixSeconds: The notice's `time` in seconds since the epoch; 0 when there is no notice.
    package func setSpotDeadline(unixSeconds: Double) {
        guard isEnabled else { return }
        gauge(MetricCatalogue.spotDeadline).record(unixSeconds)
    }

    /// Sets how many scheduled maintenance events IMDS lists.
    /// - Parameter count: The number of listed events.
    package func setMaintenanceScheduled(_ count: Int) {
        guard isEnabled else { return }
        gauge(MetricCatalogue.maintenanceScheduled).record(Int64(count))
    }

    /// Records one hook run.
    /// - Parameters:
    ///   - type: The event type the hook ran for.
    ///   - result: How it ended.
    ///   - duration: How long it ran.
    package func recordHookRun(type: EventType, result: HookRunResult, duration: Duration) {
        guard isEnabled else { return }
        counter(MetricCatalogue.hookRuns, type.rawValue, result.rawValue).increment()
        timer(MetricCatalogue.hookDuration, type.rawValue).recordNanoseconds(duration.nanoseconds)
    }

    /// Records the outcome of one webhook delivery attempt.
    /// - Parameters:
    ///   - endpoint: The endpoint URL without credentials, query or fragment (secret path segments masked).
    ///   - result: What the attempt led to.
    package func recordWebhookDelivery(endpoint: String, result: WebhookDeliveryResult) {
        guard isEnabled else { return }
        counter(MetricCatalogue.webhookDeliveries, endpoint, result.rawValue).increment()
    }

    /// Sets how many webhook deliveries wait in the outbox.
    /// - Parameter count: The outbox's size.
    package func setOutboxPending(_ count: Int) {
        guard isEnabled else { return }
        gauge(MetricCatalogue.outboxPending).record(Int64(count))
    }

    /// Records one Auto Scaling lifecycle action call (`RecordLifecycleActionHeartbeat`, `CompleteLifecycleAction`).
    /// The calls are Lifecycle's (`LifecycleActions.Call`, which names each one's label); Telemetry keeps no copy.
    /// - Parameters:
    ///   - action: The `action` label: `heartbeat` or `complete`.
    ///   - succeeded: The `result` label: `ok`, else `error`.
    package func recordLifecycleAction(_ action: String, succeeded: Bool) {
        guard isEnabled else { return }
        counter(MetricCatalogue.lifecycleActions, action, succeeded ? "ok" : "error").increment()
    }
}

/// Turns recording on and off for every copy of a ``Telemetry`` made with it, at once: the daemon's one registry
/// records only while `[metrics]` is configured (a reload may configure it or remove it), so that the poll loop, the
/// hooks and the lifecycle actions, made once, start recording when a reload turns metrics on.
package final class RecordingSwitch: Sendable {
    private let state: Atomic<Bool>

    /// Creates a switch.
    /// - Parameter isOn: Whether recording starts on.
    package init(isOn: Bool) {
        state = Atomic(isOn)
    }

    /// Whether telemetry made with this switch records; setting it takes effect for the next recording call.
    package var isOn: Bool {
        get { state.load(ordering: .relaxed) }
        set { state.store(newValue, ordering: .relaxed) }
    }
}

/// The swift-metrics handle of each series, made once through the factory and then reused: making one goes through the
/// registry (a lock, a look-up by name and by label set, a new handler object), which cost about 40,000 instructions
/// per recorded poll when done on every recording (`bench/metrics`, callgrind).
private final class SeriesHandles: Sendable {
    /// One series: the metric's name and its label values in catalogue order.
    private struct Series: Hashable {
        let name: String
        let values: [String]
    }

    private let factory: any MetricsFactory
    private let counters = Mutex<[Series: Counter]>([:])
    private let gauges = Mutex<[Series: Gauge]>([:])
    private let timers = Mutex<[Series: CoreMetrics.Timer]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func counter(_ metric: MetricDefinition, _ values: [String]) -> Counter {
        Self.handle(in: counters, Series(name: metric.name, values: values)) {
            Counter(label: metric.name, dimensions: Array(zip(metric.labels, values)), factory: factory)
        }
    }

    func gauge(_ metric: MetricDefinition, _ values: [String]) -> Gauge {
        Self.handle(in: gauges, Series(name: metric.name, values: values)) {
            Gauge(label: metric.name, dimensions: Array(zip(metric.labels, values)), factory: factory)
        }
    }

    func timer(_ metric: MetricDefinition, _ values: [String]) -> CoreMetrics.Timer {
        Self.handle(in: timers, Series(name: metric.name, values: values)) {
            CoreMetrics.Timer(label: metric.name, dimensions: Array(zip(metric.labels, values)), factory: factory)
        }
    }

    private static func handle<Handle: Sendable>(
        in cache: borrowing Mutex<[Series: Handle]>, _ series: Series, make: () -> Handle
    ) -> Handle {
        cache.withLock { handles in
            if let existing = handles[series] { return existing }
            let created = make()
            handles[series] = created
            return created
        }
    }
}

extension Duration {
    /// The whole duration in nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
