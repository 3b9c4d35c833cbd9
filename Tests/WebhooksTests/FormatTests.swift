import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Testing

@testable import Webhooks

@Suite struct FormatTests {
    let event = sampleEvent()

    @Test func jsonBodyIsThePayload() throws {
        let renderer = try WebhookBodyRenderer(endpoints: [])
        let body = renderer.body(for: event, endpoint: WebhookEndpoint(url: "http://127.0.0.1/"))
        #expect(body.bytes == event.payloadBytes())
        #expect(body.contentType == "application/json")
    }

    @Test func cloudEventHasTheRequiredAttributes() throws {
        let renderer = try WebhookBodyRenderer(endpoints: [])
        let body = renderer.body(for: event, endpoint: WebhookEndpoint(url: "http://127.0.0.1/", format: .cloudevents))
        #expect(body.contentType == "application/cloudevents+json")
        let parsed = try JSONDocument.parse(String(decoding: body.bytes, as: UTF8.self))
        #expect(parsed["specversion"] == "1.0")
        #expect(parsed["id"] == .string(event.id))
        #expect(parsed["source"] == "imdswatch/i-0abc123")
        #expect(parsed["type"] == "imdswatch.spot-interruption")
        #expect(parsed["time"] == .string(event.detectedAt))
        #expect(parsed["datacontenttype"] == "application/json")
        #expect(parsed["data"] == event.payload)
    }

    @Test func slackMessageIsOneReadableLine() throws {
        let text = WebhookBodyRenderer.slackMessage(event)["text"]?.stringValue
        #expect(
            text == ":warning: spot-interruption on i-0abc123 (m5.large, eu-west-1b): terminate at 2026-11-24T12:00:00Z"
        )
        #expect(text?.contains("\n") == false)
    }

    @Test func contentTypeOverrideWins() throws {
        let renderer = try WebhookBodyRenderer(endpoints: [])
        let endpoint = WebhookEndpoint(url: "http://127.0.0.1/", format: .slack, contentType: "text/plain")
        #expect(renderer.body(for: event, endpoint: endpoint).contentType == "text/plain")
    }

    @Test func templateValuesAreEscapedForJSONStrings() throws {
        let template = try WebhookTemplate(
            text: #"{"t": "{{data.action}} {{instance.instance_id}}", "raw": {{{data_json}}}}"#)
        var tricky = event
        tricky.detail = .spotInterruption(SpotInterruption(action: "say \"hi\"\n<now>", time: EventTime(rfc3339: "x")))
        let parsed = try JSONDocument.parse(template.render(tricky))
        #expect(parsed["t"] == "say \"hi\"\n<now> i-0abc123")
        #expect(parsed["raw"] == tricky.detail.dataJSON)
    }

    @Test(arguments: ["teams.mustache", "pagerduty-v2.mustache"])
    func shippedTemplatesRenderValidJSON(name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/webhook-templates/\(name)").path
        let renderer = try WebhookBodyRenderer(endpoints: [
            WebhookEndpoint(url: "http://127.0.0.1/", format: .template, templateFile: path)
        ])
        for type in EventType.allCases {
            let body = renderer.body(
                for: sampleEvent(type: type),
                endpoint: WebhookEndpoint(url: "http://127.0.0.1/", format: .template, templateFile: path))
            let text = String(decoding: body.bytes, as: UTF8.self)
            #expect(throws: Never.self, "\(name) for \(type): \(text)") { try JSONDocument.parse(text) }
        }
    }

    @Test func missingTemplateFailsAtInit() {
        #expect(throws: WebhookError.self) {
            try WebhookBodyRenderer(endpoints: [
                WebhookEndpoint(url: "http://x/", format: .template, templateFile: "/nonexistent.mustache")
            ])
        }
    }
}
