import Foundation
import HTTP

/// One Prometheus text exposition, parsed into samples, for assertions on names and values.
package struct MetricsScrape: Sendable {
    /// One sample line: `name{label="value",…} number`.
    package struct Sample: Sendable, Equatable {
        package var name: String
        package var labels: [String: String]
        package var value: Double
    }

    /// The raw text.
    package let text: String
    /// Every sample, in order.
    package let samples: [Sample]

    /// Parses the text format (comments skipped; label values unescaped for `\\`, `\"`, `\n`).
    package init(text: String) {
        self.text = text
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
            var labels: [String: String] = [:]
            let name: Substring
            let rest: Substring
            if let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                name = line[..<brace]
                var body = line[line.index(after: brace)..<close]
                while let equals = body.firstIndex(of: "=") {
                    let key = body[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
                    var index = body.index(equals, offsetBy: 2)
                    var value = ""
                    while index < body.endIndex, body[index] != "\"" {
                        if body[index] == "\\", body.index(after: index) < body.endIndex {
                            index = body.index(after: index)
                            value.append(body[index] == "n" ? "\n" : body[index])
                        } else {
                            value.append(body[index])
                        }
                        index = body.index(after: index)
                    }
                    labels[key] = value
                    body = index < body.endIndex ? body[body.index(after: index)...] : ""
                }
                rest = line[line.index(after: close)...]
            } else {
                let parts = line.split(separator: " ", maxSplits: 1)
                name = parts[0]
                rest = parts.count > 1 ? parts[1] : ""
            }
            let valueText = rest.split(separator: " ").first.map(String.init) ?? ""
            let value =
                valueText == "+Inf" ? Double.infinity : valueText == "-Inf" ? -Double.infinity : Double(valueText)
            if let value { samples.append(Sample(name: String(name), labels: labels, value: value)) }
        }
        self.samples = samples
    }

    /// The value of the sample with exactly these labels, if present.
    package func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The `# TYPE` of a metric family, if declared.
    package func type(of name: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE \(name) ") {
            return line.split(separator: " ").last.map(String.init)
        }
        return nil
    }

    /// `GET url` over loopback.
    /// - Returns: The response.
    /// - Throws: ``HTTPError`` when nothing answered.
    package static func get(_ url: String, transport: CurlTransport = CurlTransport()) async throws(HTTPError)
        -> HTTPResponse
    {
        try await transport.send(
            HTTPRequest(method: .get, url: url, headers: [], totalTimeout: .seconds(5), maxResponseBytes: 4 << 20))
    }

    /// `GET url` over loopback, as status and text (for callers that do not import HTTP).
    /// - Throws: ``HTTPError`` when nothing answered.
    package static func fetch(_ url: String) async throws(HTTPError) -> (status: Int, body: String) {
        let response = try await get(url)
        return (response.status, response.bodyText)
    }

    /// Scrapes `url` (a `/metrics` URL).
    /// - Throws: ``HTTPError`` when nothing answered, ``HarnessError`` when the status is not 200.
    package static func scrape(_ url: String, transport: CurlTransport = CurlTransport()) async throws -> MetricsScrape
    {
        let response = try await get(url, transport: transport)
        guard response.status == 200 else { throw HarnessError(message: "GET \(url): HTTP \(response.status)") }
        return MetricsScrape(text: response.bodyText)
    }
}
