import Events
import Logging
import Telemetry

extension HookRunner {
    /// The variables a hook gets on top of the daemon's environment; `IMDSWATCH_DEADLINE` is `nil` (removed)
    /// when the event has no deadline. systemd's notify variables are removed too: a hook must never be able to
    /// send READY=1 or WATCHDOG=1 on the daemon's behalf.
    ///
    /// Values that come from IMDS (`IMDSWATCH_INSTANCE_ID`, `IMDSWATCH_DEADLINE`) have their control characters
    /// escaped (`String.escapingControlCharacters`): a NUL, a line break or another control character never reaches a hook raw (a NUL
    /// would make every hook fail to start).
    package static func environment(for event: Event, eventFile: String, dryRun: Bool) -> [String: String?] {
        [
            "NOTIFY_SOCKET": nil,
            "WATCHDOG_USEC": nil,
            "WATCHDOG_PID": nil,
            "IMDSWATCH_EVENT_TYPE": event.type.rawValue,
            "IMDSWATCH_EVENT_ID": event.id.escapingControlCharacters,
            "IMDSWATCH_EVENT_FILE": eventFile.escapingControlCharacters,
            "IMDSWATCH_INSTANCE_ID": event.instance.instanceID.escapingControlCharacters,
            "IMDSWATCH_DEADLINE": event.deadline?.rfc3339.escapingControlCharacters,
            "IMDSWATCH_DRY_RUN": dryRun ? "1" : "0",
            "IMDSWATCH_ASG_NAME": event.lifecycleTarget?.group,
            "IMDSWATCH_LIFECYCLE_HOOK": event.lifecycleTarget?.hook,
        ]
    }

    /// Runs `hooks` one at a time, in order, for `event`: writes the payload to a 0600 event file first and
    /// removes it after the last hook. A failing, hanging or killed hook does not stop the ones after it.
    /// - Parameters:
    ///   - hooks: The hooks, in run order (from ``HookCatalog/plan(for:)``).
    ///   - event: The event.
    ///   - dryRun: The value of `IMDSWATCH_DRY_RUN` the hooks see (they still run).
    ///   - eventFileDirectory: Where the event file goes (default: `$RUNTIME_DIRECTORY`, `$TMPDIR` or `/tmp`).
    ///   - extraEnvironment: More variables for the hooks (the demo and tests set `PATH`); the `IMDSWATCH_*`
    ///     variables win over these.
    ///   - willRun: Called before each hook starts.
    ///   - didRun: Called after each hook ended.
    /// - Returns: One result per hook, in order. Never throws: when the event file cannot be written, the hooks
    ///   still run with the payload on stdin and `IMDSWATCH_EVENT_FILE` empty (logged at error).
    package func runSequence(
        _ hooks: [Hook],
        for event: Event,
        dryRun: Bool = false,
        eventFileDirectory: String? = nil,
        extraEnvironment: [String: String?] = [:],
        willRun: @Sendable (Hook) async -> Void = { _ in },
        didRun: @Sendable (HookResult) async -> Void = { _ in }
    ) async -> [HookResult] {
        guard !hooks.isEmpty else { return [] }
        var logger = self.logger
        logger[metadataKey: LogField.eventType] = .string(event.type.rawValue)
        logger[metadataKey: LogField.eventID] = .string(event.id)
        let payload = event.payloadBytes()
        let directory = eventFileDirectory ?? HookFileSystem.defaultEventFileDirectory()
        var eventFile = ""
        do {
            eventFile = try HookFileSystem.writePrivateFile(in: directory, prefix: "imdswatch-event", bytes: payload)
        } catch {
            logger.error("cannot write the event file for hooks: \(error)")
        }
        defer { if !eventFile.isEmpty { HookFileSystem.remove(eventFile) } }
        let environment = extraEnvironment.merging(Self.environment(for: event, eventFile: eventFile, dryRun: dryRun)) {
            $1
        }

        var results: [HookResult] = []
        for (index, hook) in hooks.enumerated() {
            if Task.isCancelled {
                let names = hooks[index...].map(\.name).joined(separator: ", ")
                logger.error("shutting down: hooks not run: \(names)")
                break
            }
            await willRun(hook)
            let result = await run(hook, payload: payload, environment: environment, logger: logger)
            results.append(result)
            telemetry.recordHookRun(type: event.type, result: result.telemetryResult, duration: result.duration)
            await didRun(result)
        }
        return results
    }
}
