import CoreMetrics
import Prometheus

/// One metric imdswatch exports: its exact name, help text, kind and label names. Every metric is defined once,
/// in ``MetricCatalogue``; the registry refuses (with `fatalError`) one name registered with two shapes, so nothing
/// else names a metric.
package struct MetricDefinition: Sendable, Hashable {
    /// The Prometheus type.
    package enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// The exact name (`imdswatch_events_total`).
    package let name: String
    /// The `# HELP` text.
    package let help: String
    /// The Prometheus type.
    package let kind: Kind
    /// The label names, in the order every recording passes them.
    package let labels: [String]
}

/// Every metric of imdswatch (docs/metrics.md describes each one). Names are the contract of interface.md.
package enum MetricCatalogue {
    /// `imdswatch_build_info{version}`: always 1.
    package static let buildInfo = MetricDefinition(
        name: "imdswatch_build_info", help: "Always 1; the version label is the running imdswatch version.",
        kind: .gauge, labels: ["version"])
    /// `imdswatch_events_total{type}`.
    package static let events = MetricDefinition(
        name: "imdswatch_events_total", help: "Events detected, by event type.", kind: .counter, labels: ["type"])
    /// `imdswatch_imds_requests_total{source,result}`.
    package static let imdsRequests = MetricDefinition(
        name: "imdswatch_imds_requests_total",
        help: "Polls of each IMDS source, by result: ok (a value), absent (a 404 meaning none), error.",
        kind: .counter, labels: ["source", "result"])
    /// `imdswatch_imds_request_duration_seconds{source}`.
    package static let imdsRequestDuration = MetricDefinition(
        name: "imdswatch_imds_request_duration_seconds", help: "Time one poll of an IMDS source took, in seconds.",
        kind: .histogram, labels: ["source"])
    /// `imdswatch_source_up{source}`.
    package static let sourceUp = MetricDefinition(
        name: "imdswatch_source_up",
        help: "1 when the last poll of the source got an answer from IMDS (absent included), 0 when it failed.",
        kind: .gauge, labels: ["source"])
    /// `imdswatch_source_last_success_timestamp_seconds{source}`.
    package static let sourceLastSuccess = MetricDefinition(
        name: "imdswatch_source_last_success_timestamp_seconds",
        help: "Unix time of the last poll of the source that got an answer (0 before the first).",
        kind: .gauge, labels: ["source"])
    /// `imdswatch_hook_runs_total{type,result}`.
    package static let hookRuns = MetricDefinition(
        name: "imdswatch_hook_runs_total",
        help: "Hook runs, by event type and result: ok (exit 0), failed (other exit, signal, not started), timeout.",
        kind: .counter, labels: ["type", "result"])
    /// `imdswatch_hook_duration_seconds{type}`.
    package static let hookDuration = MetricDefinition(
        name: "imdswatch_hook_duration_seconds", help: "Time one hook ran, in seconds, by event type.",
        kind: .histogram, labels: ["type"])
    /// `imdswatch_webhook_deliveries_total{endpoint,result}`.
    package static let webhookDeliveries = MetricDefinition(
        name: "imdswatch_webhook_deliveries_total",
        help:
            "Webhook delivery attempts, by endpoint (URL without credentials or query) and result: delivered, retried, dropped.",
        kind: .counter, labels: ["endpoint", "result"])
    /// `imdswatch_webhook_outbox_pending`.
    package static let outboxPending = MetricDefinition(
        name: "imdswatch_webhook_outbox_pending", help: "Webhook deliveries waiting in the durable outbox.",
        kind: .gauge, labels: [])
    /// `imdswatch_spot_interruption_deadline_timestamp_seconds`.
    package static let spotDeadline = MetricDefinition(
        name: "imdswatch_spot_interruption_deadline_timestamp_seconds",
        help: "Unix time of the pending spot interruption (the notice's time), 0 when there is none.",
        kind: .gauge, labels: [])
    /// `imdswatch_maintenance_events_scheduled`.
    package static let maintenanceScheduled = MetricDefinition(
        name: "imdswatch_maintenance_events_scheduled", help: "Scheduled maintenance events IMDS lists now.",
        kind: .gauge, labels: [])
    /// `imdswatch_lifecycle_actions_total{action,result}`.
    package static let lifecycleActions = MetricDefinition(
        name: "imdswatch_lifecycle_actions_total",
        help: "Auto Scaling lifecycle actions sent, by action (heartbeat, complete) and result (ok, error).",
        kind: .counter, labels: ["action", "result"])

    /// Every metric, in documentation order.
    package static let all: [MetricDefinition] = [
        buildInfo, events, imdsRequests, imdsRequestDuration, sourceUp, sourceLastSuccess, hookRuns, hookDuration,
        webhookDeliveries, outboxPending, spotDeadline, maintenanceScheduled, lifecycleActions,
    ]

    /// Histogram buckets of IMDS request durations (a local link-local service: milliseconds, up to the timeout).
    static let imdsBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
        .seconds(5),
    ]
    /// Histogram buckets of hook durations (up to the default 90 s timeout and beyond).
    static let hookBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(90), .seconds(120), .seconds(300),
    ]

    static let byName: [String: MetricDefinition] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}

/// A swift-metrics factory over a swift-prometheus registry that registers each metric with its catalogue help text
/// and buckets ( `PrometheusMetricsFactory` registers everything without help, which `promtool check metrics`
/// reports). Names outside the catalogue are registered as swift-prometheus would, without help.
struct CatalogueMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    private let fallback: PrometheusMetricsFactory

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.fallback = PrometheusMetricsFactory(registry: registry)
    }

    /// The full name as swift-prometheus's descriptor, with the catalogue's help text.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: MetricCatalogue.byName[label]?.help ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return fallback.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let buckets =
            label == MetricCatalogue.hookDuration.name ? MetricCatalogue.hookBuckets : MetricCatalogue.imdsBuckets
        return registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) { fallback.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        fallback.destroyFloatingPointCounter(handler)
    }
    func destroyRecorder(_ handler: any RecorderHandler) { fallback.destroyRecorder(handler) }
    func destroyMeter(_ handler: any MeterHandler) { fallback.destroyMeter(handler) }
    func destroyTimer(_ handler: any TimerHandler) { fallback.destroyTimer(handler) }
}
