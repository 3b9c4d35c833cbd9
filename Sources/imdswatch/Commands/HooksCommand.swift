import ArgumentParser
import Config
import Daemon
import Durability
import Events
import Hooks
import Journal
import Logging
import Webhooks

#if canImport(Glibc)
    import Glibc
#endif

/// `imdswatch hooks list|test`: show which hooks run for each event type, or run them with a synthetic event.
struct HooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hooks",
        abstract: "List or test the hooks in hooks.d.",
        subcommands: [HooksListCommand.self, HooksTestCommand.self]
    )
}

extension Settings {
    /// The hooks directory as a catalog.
    var hookCatalog: HookCatalog { HookCatalog(directory: hooksDir) }

    /// The runner's settings (per-hook timeout).
    var hookRunnerConfiguration: HookRunner.Configuration { HookRunner.Configuration(timeout: hookTimeout) }
}

/// `imdswatch hooks list [--hooks-dir DIR]`.
struct HooksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "For each event type, the hooks that would run in order, and every skipped file with its reason."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try common.loadSettings(imds: nil)
        let catalog = settings.hookCatalog
        let plans = catalog.plans()
        print(HookReport.list(plans, directory: settings.hooksDir))
        if !catalog.directoryExists {
            print("(the directory does not exist: no hook runs)")
        }
        if plans.contains(where: { $0.directoryError != nil }) { throw ExitCode.failure }
    }
}

/// `imdswatch hooks test TYPE [--webhooks]` (with the common options: `--hooks-dir`, `--hook-timeout`, `--dry-run`…).
struct HooksTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the hooks for TYPE with a realistic synthetic payload and report each hook's exit status.",
        discussion: "Exits 1 when any hook failed. Hook output goes to standard error."
    )

    @OptionGroup var common: CommonOptions

    @Flag(name: .long, help: "Also send the synthetic event to the configured webhooks.")
    var webhooks = false

    @Argument(help: "The event type, e.g. spot-interruption.")
    var type: String

    func run() async throws {
        guard let eventType = EventType(rawValue: type) else {
            printError("imdswatch: \(HookReport.unknownType(type))")
            throw ExitCode(2)
        }
        let settings = try common.loadSettings(imds: nil)
        LoggingBootstrap.bootstrap(target: .stderr, level: settings.log.level)
        let logger = Logger(label: "imdswatch")
        // The hooks get the limit the daemon would give them (raised to the hard one), and too low a limit is refused.
        if let shortfall = DescriptorLimit.raiseAndCheckFloor(logger: logger) {
            printError("imdswatch: \(shortfall)")
            throw ExitCode.failure
        }
        let event = SyntheticEvents.event(eventType, nowMilliseconds: SystemWallClock().now())
        let plan = settings.hookCatalog.plan(for: eventType)
        plan.log(to: logger)
        if webhooks {
            try await sendToWebhooks(event, settings: settings, logger: logger)
        }
        let runner = HookRunner(configuration: settings.hookRunnerConfiguration, logger: logger)
        // With --dry-run the hooks still run, with IMDSWATCH_DRY_RUN=1, so that hooks honouring it say what they would do.
        let (results, signal) = await Self.runUntilSignalled(runner, plan.hooks, event: event, dryRun: settings.dryRun)
        print(HookReport.results(results, plan: plan))
        if let signal {
            let name = HookReport.signalName(signal)
            printError(
                "imdswatch: interrupted by \(name): the running hook and every process it started were ended (SIGTERM, then SIGKILL)"
            )
            throw ExitCode(128 + signal)
        }
        if results.contains(where: { !$0.succeeded }) { throw ExitCode.failure }
    }

    /// Runs the hooks, then waits until what they left behind is ended at their timeouts (as the daemon would end
    /// it), unless SIGINT, SIGTERM or SIGHUP comes first: then the running hook and every process the hooks
    /// started are ended at once (SIGTERM, SIGKILL after the grace period) and the rest of the sequence is not run.
    /// - Returns: The results of the hooks that ran, and the signal that interrupted them, if any.
    static func runUntilSignalled(
        _ runner: HookRunner, _ hooks: [Hook], event: Event, dryRun: Bool
    ) async -> (results: [HookResult], signal: Int32?) {
        enum Outcome: Sendable {
            case finished([HookResult])
            case signalled(Int32)
        }
        // A launcher's blocked mask is inherited: without this, the signals would stay pending, unseen.
        ProcessSignals.unblockTerminationSignals()
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM, SIGHUP])
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                let results = await runner.runSequence(hooks, for: event, dryRun: dryRun)
                await runner.waitForLeftovers()
                return .finished(results)
            }
            group.addTask { await signals.next().map(Outcome.signalled) }
            var results: [HookResult] = []
            var signal: Int32?
            while let next = await group.next() {
                switch next {
                case .finished(let ran):
                    results = ran
                    group.cancelAll()
                case .signalled(let number):
                    signal = number
                    group.cancelAll()
                case nil:
                    break
                }
            }
            return (results, signal)
        }
    }

    /// Sends the synthetic event once to every configured webhook (no outbox, no retries) and prints each outcome.
    private func sendToWebhooks(_ event: Event, settings: Settings, logger: Logger) async throws {
        guard !settings.webhooks.isEmpty else {
            print("webhooks: none configured (use --webhook URL or [[webhook]] in the config file)")
            return
        }
        let dispatcher: WebhookDispatcher
        do {
            dispatcher = try settings.webhookDispatcher(logger: logger)
        } catch {
            printError("imdswatch: \(error)")
            throw ExitCode(2)
        }
        let results = await dispatcher.sendOnce(event)
        for result in results {
            print("webhook \(result.url): \(result.outcome)")
        }
        if results.contains(where: { !$0.isSuccess }) { throw ExitCode.failure }
    }
}
