import Events
import IMDS

/// One read of every source, without change detection: what `imdswatch status` prints.
package struct PollReport: Sendable, Equatable {
    /// One source's result.
    package struct Entry: Sendable, Equatable {
        /// The source.
        package var source: MetadataSource
        /// What the read found.
        package var observation: Observation
    }

    /// The identity document, or why it could not be read.
    package var identity: Result<InstanceIdentityDocument, IMDSError>
    /// Every polled source, spot first.
    package var entries: [Entry]

    /// Reads the identity document and the given sources once, concurrently; fires nothing, saves nothing.
    /// - Parameters:
    ///   - sources: The sources to read.
    ///   - reader: Where to read.
    /// - Returns: The report. Never throws: errors are in the report.
    package static func collect(sources: [MetadataSource], from reader: some MetadataReader) async -> PollReport {
        async let identity: Result<InstanceIdentityDocument, IMDSError> = {
            do throws(IMDSError) {
                return .success(try await InstanceIdentityDocument.read(from: reader))
            } catch {
                return .failure(error)
            }
        }()
        let entries = await withTaskGroup(of: Entry.self) { group in
            for source in sources {
                group.addTask { Entry(source: source, observation: await source.read(from: reader)) }
            }
            var entries: [Entry] = []
            for await entry in group { entries.append(entry) }
            return entries.sorted { $0.source < $1.source }
        }
        return PollReport(identity: await identity, entries: entries)
    }

    /// True when IMDS answered at least one read (a value or a 404).
    package var imdsAnswered: Bool {
        if case .success = identity { return true }
        return entries.contains { entry in
            if case .failed = entry.observation { return false }
            return true
        }
    }

    /// The first error, as a one-line diagnosis, when IMDS answered nothing.
    package var diagnosis: String? {
        guard !imdsAnswered else { return nil }
        if case .failure(let error) = identity { return error.message }
        return entries.lazy.compactMap(\.observation.error).first?.message
    }

    /// Human-readable lines: the instance, then one line per source (`spot: absent`, `asg: InService`, …).
    package var lines: [String] {
        var lines: [String] = []
        switch identity {
        case .success(let document):
            lines.append(
                "instance: \(document.instanceID) \(document.instanceType) \(document.availabilityZone) account \(document.accountID)"
            )
        case .failure(let error):
            lines.append("instance: error: \(error.message)")
        }
        for entry in entries { lines.append("\(entry.source): \(entry.observation.summary)") }
        return lines
    }

    /// The report as JSON: `{"imds_answered", "instance" | "instance_error", "sources": {name: {"status", "value" |
    /// "error"}}}` with `status` one of `present`, `absent`, `error`.
    package var json: JSONValue {
        var root: [(String, JSONValue)] = [("imds_answered", .bool(imdsAnswered))]
        switch identity {
        case .success(let document): root.append(("instance", document.json))
        case .failure(let error): root.append(("instance_error", .string(error.message)))
        }
        var sources: [(String, JSONValue)] = []
        for entry in entries {
            let value: JSONValue =
                switch entry.observation {
                case .value(let value): ["status": "present", "value": value.json]
                case .absent: ["status": "absent"]
                case .failed(let error):
                    ["status": "error", "error": .string(error.message), "code": .string(error.code.rawValue)]
                }
            sources.append((entry.source.rawValue, value))
        }
        root.append(("sources", .object(sources)))
        return .object(root)
    }
}
