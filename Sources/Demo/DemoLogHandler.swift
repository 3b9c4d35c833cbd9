import Durability
import Events
import Foundation
import Journal
import Logging

/// The demo's log file: every log line of the watcher and the hooks, appended with one `write(2)` each.
final class DemoLogFile: Sendable {
    private let descriptor: Int32

    /// Opens `path` for appending (it must exist).
    /// - Throws: ``DemoError`` when it cannot be opened.
    init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DemoError("cannot open \(path): \(SystemCall.describe(errno: errno))")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Appends one line.
    func append(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}

/// A swift-log handler for the demo: writes every entry to the log file in the temp dir (in the format
/// `imdswatch run` uses on stderr) instead of the terminal, and shows on the timeline what the daemon's parts log
/// about the hooks (their output lines, each hook's result) and the lifecycle action calls.
struct DemoLogHandler: LogHandler, Sendable {
    private var format: StderrLogHandler
    private let file: DemoLogFile
    private let timeline: DemoTimeline
    private let hookPaths: [String: String]

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - file: Where every entry goes.
    ///   - timeline: Where hooks' output lines and results also go.
    ///   - hookPaths: The enabled hooks' paths relative to `hooks.d`, by hook name (the timeline shows the path).
    init(label: String, file: DemoLogFile, timeline: DemoTimeline, hookPaths: [String: String]) {
        self.format = StderrLogHandler(
            label: label, logLevel: .debug,
            format: StderrLineFormat(includesTimestamp: true, includesSyslogPrefix: false)
        )
        self.file = file
        self.timeline = timeline
        self.hookPaths = hookPaths
    }

    var logLevel: Logger.Level {
        get { format.logLevel }
        set { format.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { format.metadata }
        set { format.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { format.metadata[key] }
        set { format.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        file.append(format.line(for: event, milliseconds: SystemWallClock().now()))
        let message = "\(event.message)"
        if message.hasPrefix("lifecycle action ") { timeline.log(.aws, message) }
        guard let hook = format.metadata[LogField.hook].map({ "\($0)" }) else { return }
        if case .string(let stream) = event.metadata?["imdswatch_hook_stream"] {
            timeline.hookOutput(hook, stream: stream == "stderr" ? .stderr : .stdout, message)
        } else if event.metadata?[LogField.hookExitStatus] != nil {
            // The hook runner's line for a hook that ended: "hook NAME finished: SUMMARY" (or "failed: ").
            let succeeded = event.level < .error
            let prefix = "hook \(hook) \(succeeded ? "finished" : "failed"): "
            let summary = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
            timeline.hookEnded(hookPaths[hook] ?? hook, succeeded: succeeded, summary: summary)
        }
    }
}
