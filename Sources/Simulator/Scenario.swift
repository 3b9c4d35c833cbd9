import Foundation

/// A timeline of changes to play against a running simulator.
///
/// JSON form: `{"steps": [{"at": 0.5, "note": "spot notice", "set": {"spot": {"action": "terminate", "time": 120}}},
/// {"at": 2, "fault": {"path": "meta-data/spot/", "kind": "status", "status": 503, "count": 1}}]}`.
/// Steps run in order of `at` (seconds from the start of playback; steps with equal `at` keep file order).
package struct Scenario: Sendable, Codable, Equatable {
    /// One point on the timeline; every action it names is applied, in the order of the properties below.
    package struct Step: Sendable, Codable, Equatable {
        /// Seconds after the start of playback.
        package var at: Double
        /// A human-readable label, reported when the step is played.
        package var note: String?
        /// A merge patch of ``SimulatorState`` fields (see ``SimulatorState/applying(_:)``).
        package var set: PatchValue?
        /// Removes every fault before adding this step's.
        package var clearFaults: Bool?
        /// A fault to inject.
        package var fault: Fault?
        /// Faults to inject.
        package var faults: [Fault]?
        /// Invalidates every token issued so far (clients then get 401 and must fetch a new one).
        package var invalidateTokens: Bool?

        /// Creates a step.
        /// - Parameters:
        ///   - at: Seconds after the start of playback.
        ///   - note: A label.
        ///   - set: A state merge patch.
        ///   - clearFaults: Remove every fault first.
        ///   - fault: A fault to inject.
        ///   - faults: More faults to inject.
        ///   - invalidateTokens: Invalidate every token.
        package init(
            at: Double, note: String? = nil, set: PatchValue? = nil, clearFaults: Bool? = nil,
            fault: Fault? = nil, faults: [Fault]? = nil, invalidateTokens: Bool? = nil
        ) {
            self.at = at
            self.note = note
            self.set = set
            self.clearFaults = clearFaults
            self.fault = fault
            self.faults = faults
            self.invalidateTokens = invalidateTokens
        }
    }

    /// The steps, in file order.
    package var steps: [Step]

    /// Creates a scenario.
    /// - Parameter steps: The steps; they are played sorted by `at`.
    package init(steps: [Step]) {
        self.steps = steps
    }

    /// Decodes and checks a scenario.
    /// - Parameter json: The JSON bytes.
    /// - Throws: ``SimulatorInputError`` naming the step and field when the JSON is invalid, a time is negative, or a
    ///   `set` patch does not apply.
    package init(json: [UInt8]) throws(SimulatorInputError) {
        do {
            self = try SimulatorCoding.decoder().decode(Scenario.self, from: Data(json))
        } catch {
            throw SimulatorInputError("invalid scenario: \(SimulatorCoding.describe(error))")
        }
        try validate()
    }

    /// Reads a scenario file.
    /// - Parameter path: The file path.
    /// - Throws: ``SimulatorInputError`` naming the file when it cannot be read or is invalid.
    package static func load(path: String) throws(SimulatorInputError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SimulatorInputError("cannot read scenario file \(path)")
        }
        do throws(SimulatorInputError) {
            return try Scenario(json: Array(data))
        } catch {
            throw SimulatorInputError("\(path): \(error.message)")
        }
    }

    /// The steps in playback order.
    package var orderedSteps: [Step] {
        steps.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    /// Checks times, and that each `set` applies to a default state (patches are applied in order).
    /// - Throws: ``SimulatorInputError`` naming the step.
    package func validate() throws(SimulatorInputError) {
        var state = SimulatorState()
        for (index, step) in orderedSteps.enumerated() {
            guard step.at.isFinite, step.at >= 0 else {
                throw SimulatorInputError(
                    "invalid scenario: step \(index) has \"at\": \(step.at); it must be 0 or more seconds")
            }
            if let patch = step.set {
                do throws(SimulatorInputError) {
                    state = try state.applying(patch)
                } catch {
                    throw SimulatorInputError("invalid scenario: step \(index) (at \(step.at)) set: \(error.message)")
                }
            }
        }
    }
}

extension SimulatorCore {
    /// Plays `scenario` from now, applying each step at its time.
    /// - Parameters:
    ///   - scenario: The timeline.
    ///   - onStep: Called after each step is applied.
    /// - Throws: `CancellationError` when the task is cancelled; ``SimulatorInputError`` when a `set` does not apply
    ///   (the steps before it stay applied).
    func play(_ scenario: Scenario, onStep: @Sendable (Scenario.Step) -> Void) async throws {
        let start = ContinuousClock.now
        for step in scenario.orderedSteps {
            try await Task.sleep(
                until: start.advanced(by: .milliseconds(Int64((step.at * 1000).rounded()))), clock: .continuous)
            try apply(step)
            onStep(step)
        }
    }

    /// Applies one step's actions at once.
    func apply(_ step: Scenario.Step) throws(SimulatorInputError) {
        if let patch = step.set {
            _ = try apply(patch: patch)
        }
        if step.clearFaults == true { clearFaults() }
        if let fault = step.fault { inject(fault) }
        for fault in step.faults ?? [] { inject(fault) }
        if step.invalidateTokens == true { invalidateTokens() }
    }
}
