import ArgumentParser
import Events
import Hooks
import Logging

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

/// The options of the `hooks` subcommands. Kept in one struct so that the shared config loader can replace it.
struct HooksOptions: ParsableArguments {
    @Option(name: .long, help: "The hooks directory.")
    var hooksDir = "/etc/imdswatch/hooks.d"

    @Option(name: .long, help: "Seconds a hook may run before SIGTERM to its process group (SIGKILL 5 s later).")
    var hookTimeout: Double = 90

    func validate() throws {
        guard hookTimeout > 0, hookTimeout <= 86_400 else {
            throw ValidationError("--hook-timeout must be between 0 and 86400 seconds, got \(hookTimeout)")
        }
    }

    var catalog: HookCatalog { HookCatalog(directory: hooksDir) }

    var runnerConfiguration: HookRunner.Configuration {
        HookRunner.Configuration(timeout: .milliseconds(Int64(hookTimeout * 1000)))
    }
}

/// `imdswatch hooks list [--hooks-dir DIR]`.
struct HooksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "For each event type, the hooks that would run in order, and every skipped file with its reason."
    )

    @OptionGroup var options: HooksOptions

    func run() async throws {
        let catalog = options.catalog
        let plans = catalog.plans()
        print(HookReport.list(plans, directory: options.hooksDir))
        if !catalog.directoryExists {
            print("(the directory does not exist: no hook runs)")
        }
        if plans.contains(where: { $0.directoryError != nil }) { throw ExitCode.failure }
    }
}

/// `imdswatch hooks test TYPE [--hooks-dir DIR] [--hook-timeout S] [--dry-run] [--webhooks]`.
struct HooksTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the hooks for TYPE with a realistic synthetic payload and report each hook's exit status.",
        discussion: "Exits 1 when any hook failed. Hook output goes to standard error."
    )

    @OptionGroup var options: HooksOptions

    @Flag(name: .long, help: "Run the hooks with IMDSWATCH_DRY_RUN=1 (hooks that honour it only say what they would do).")
    var dryRun = false

    @Flag(name: .long, help: "Also send the synthetic event to the configured webhooks.")
    var webhooks = false

    @Argument(help: "The event type, e.g. spot-interruption.")
    var type: String

    func run() async throws {
        guard let eventType = EventType(rawValue: type) else {
            printError("imdswatch: \(HookReport.unknownType(type))")
            throw ExitCode(2)
        }
        let logger = Logger(label: "imdswatch") { StreamLogHandler.standardError(label: $0) }
        let event = SyntheticEvents.event(eventType, nowMilliseconds: Self.nowMilliseconds())
        let plan = options.catalog.plan(for: eventType)
        plan.log(to: logger)
        if webhooks { print("webhooks not configured") }
        let runner = HookRunner(configuration: options.runnerConfiguration, logger: logger)
        let results = await runner.runSequence(plan.hooks, for: event, dryRun: dryRun)
        print(HookReport.results(results, plan: plan))
        if results.contains(where: { !$0.succeeded }) { throw ExitCode.failure }
    }

    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
