import Events
import IMDSWatchTestKit
import Telemetry
import Testing

/// The catalogue's metrics as the registry exports them: names, types, help texts and values.
@Suite struct ExpositionTests {
    private func recordOneOfEach(_ telemetry: Telemetry) {
        telemetry.start(version: "9.9.9", sources: MetadataSource.allCases)
        telemetry.recordPoll(source: .spot, result: .ok, duration: .milliseconds(3), unixSeconds: 1_795_953_600)
        telemetry.recordEvent(.spotInterruption)
        telemetry.setSpotDeadline(unixSeconds: 1_795_953_720)
        telemetry.setMaintenanceScheduled(2)
        telemetry.recordHookRun(type: .spotInterruption, result: .failed, duration: .milliseconds(40))
        telemetry.recordWebhookDelivery(endpoint: "https://hooks.example.com/x", result: .retried)
        telemetry.setOutboxPending(3)
        telemetry.recordLifecycleAction("complete", succeeded: true)
    }

    @Test func everyCatalogueMetricIsExportedWithItsTypeAndHelp() async throws {
        let exposition = MetricsExposition()
        recordOneOfEach(exposition.telemetry)
        let scrape = MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self))
        for metric in MetricCatalogue.all {
            #expect(scrape.type(of: metric.name) == metric.kind.rawValue, "\(metric.name)")
            #expect(scrape.text.contains("# HELP \(metric.name) \(metric.help)\n"), "\(metric.name)")
        }
        #expect(scrape.value("imdswatch_build_info", ["version": "9.9.9"]) == 1)
        #expect(scrape.value("imdswatch_events_total", ["type": "spot-interruption"]) == 1)
        #expect(
            scrape.value("imdswatch_events_total", ["type": "tags-changed"]) == 0,
            "every type is exported from the start")
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "ok"]) == 1)
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "error"]) == 0)
        #expect(scrape.value("imdswatch_imds_request_duration_seconds_count", ["source": "spot"]) == 1)
        #expect(scrape.value("imdswatch_imds_request_duration_seconds_bucket", ["source": "spot", "le": "0.005"]) == 1)
        #expect(scrape.value("imdswatch_imds_request_duration_seconds_bucket", ["source": "spot", "le": "0.002"]) == 0)
        #expect(scrape.value("imdswatch_source_up", ["source": "spot"]) == 1)
        #expect(scrape.value("imdswatch_source_last_success_timestamp_seconds", ["source": "spot"]) == 1_795_953_600)
        #expect(scrape.value("imdswatch_spot_interruption_deadline_timestamp_seconds") == 1_795_953_720)
        #expect(scrape.value("imdswatch_maintenance_events_scheduled") == 2)
        #expect(scrape.value("imdswatch_hook_runs_total", ["type": "spot-interruption", "result": "failed"]) == 1)
        #expect(scrape.value("imdswatch_hook_duration_seconds_sum", ["type": "spot-interruption"]) == 0.04)
        #expect(
            scrape.value(
                "imdswatch_webhook_deliveries_total", ["endpoint": "https://hooks.example.com/x", "result": "retried"])
                == 1)
        #expect(scrape.value("imdswatch_webhook_outbox_pending") == 3)
        #expect(scrape.value("imdswatch_lifecycle_actions_total", ["action": "complete", "result": "ok"]) == 1)
    }

    @Test func aFailedPollTurnsTheSourceDownAndKeepsTheLastSuccess() async {
        let exposition = MetricsExposition()
        let telemetry = exposition.telemetry
        telemetry.start(version: "1", sources: [.spot])
        telemetry.recordPoll(source: .spot, result: .absent, duration: .milliseconds(1), unixSeconds: 100)
        telemetry.recordPoll(source: .spot, result: .error, duration: .milliseconds(1), unixSeconds: 200)
        let scrape = MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self))
        #expect(scrape.value("imdswatch_source_up", ["source": "spot"]) == 0)
        #expect(scrape.value("imdswatch_source_last_success_timestamp_seconds", ["source": "spot"]) == 100)
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "absent"]) == 1)
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "error"]) == 1)
    }

    @Test func refreshersRunBeforeEachExposition() async {
        let exposition = MetricsExposition()
        let pending = Locked(5)
        let telemetry = exposition.telemetry
        exposition.addRefresh { telemetry.setOutboxPending(pending.value) }
        #expect(
            MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self)).value(
                "imdswatch_webhook_outbox_pending") == 5)
        pending.update { $0 = 0 }
        #expect(
            MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self)).value(
                "imdswatch_webhook_outbox_pending") == 0)
    }

    @Test func twoExpositionsDoNotShareARegistry() async {
        let first = MetricsExposition()
        let second = MetricsExposition()
        first.telemetry.recordEvent(.tagsChanged)
        let scrape = MetricsScrape(text: String(decoding: await second.render(), as: UTF8.self))
        #expect(scrape.value("imdswatch_events_total", ["type": "tags-changed"]) == nil)
    }

    /// The daemon's registry while `[metrics]` is not configured: the start-up series exist, nothing records, and
    /// switching it on (a reload that adds metrics) turns on every copy of its telemetry at once.
    @Test func aRegistryNotRecordingKeepsItsStartSeriesAndRecordsOnceSwitchedOn() async {
        let exposition = MetricsExposition(isRecording: false)
        let telemetry = exposition.telemetry
        #expect(!telemetry.isEnabled)
        telemetry.start(version: "1", sources: [.spot])
        telemetry.recordPoll(source: .spot, result: .absent, duration: .milliseconds(1), unixSeconds: 100)
        telemetry.recordEvent(.spotInterruption)
        telemetry.recordHookRun(type: .spotInterruption, result: .ok, duration: .milliseconds(1))
        var scrape = MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self))
        #expect(scrape.value("imdswatch_build_info", ["version": "1"]) == 1)
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "absent"]) == 0)
        #expect(scrape.value("imdswatch_events_total", ["type": "spot-interruption"]) == 0)
        #expect(scrape.value("imdswatch_hook_runs_total", ["type": "spot-interruption", "result": "ok"]) == 0)

        exposition.isRecording = true
        #expect(telemetry.isEnabled, "a copy made before follows the switch")
        telemetry.recordPoll(source: .spot, result: .absent, duration: .milliseconds(1), unixSeconds: 200)
        telemetry.recordEvent(.spotInterruption)
        scrape = MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self))
        #expect(scrape.value("imdswatch_imds_requests_total", ["source": "spot", "result": "absent"]) == 1)
        #expect(scrape.value("imdswatch_source_last_success_timestamp_seconds", ["source": "spot"]) == 200)
        #expect(scrape.value("imdswatch_events_total", ["type": "spot-interruption"]) == 1)

        exposition.isRecording = false
        telemetry.recordEvent(.spotInterruption)
        scrape = MetricsScrape(text: String(decoding: await exposition.render(), as: UTF8.self))
        #expect(scrape.value("imdswatch_events_total", ["type": "spot-interruption"]) == 1)
    }

    @Test func disabledTelemetryRecordsNothing() {
        #expect(!Telemetry.disabled.isEnabled)
        Telemetry.disabled.recordEvent(.spotInterruption)
        #expect(MetricsExposition().telemetry.isEnabled)
    }
}
