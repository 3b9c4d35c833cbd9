import Config
import Events
import Logging
import ServiceLifecycle

/// Where detected events go: the hooks runner and the webhooks (the poll loop itself logs each detection).
struct EventSinks: Sendable {
    let fanOut: EventFanOut
    let services: [any Service]
    private let statusParts: [@Sendable () async -> String]
    private let finishers: [@Sendable () async -> Void]

    init(settings: Settings, logger: Logger) throws {
        self.fanOut = EventFanOut([])
        self.services = []
        self.statusParts = []
        self.finishers = []
    }

    /// Parts of systemd's STATUS= line: hooks running, webhooks pending.
    func statusLine() async -> String {
        var parts: [String] = []
        for part in statusParts { parts.append(await part()) }
        return parts.joined(separator: "; ")
    }

    /// Waits, within bounds, for work the sinks still have in flight (hooks running) after the poll loop stopped.
    func finish() async {
        for finisher in finishers { await finisher() }
    }
}
