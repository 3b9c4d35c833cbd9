public import AWS
public import Events
import Foundation
import Watch

/// One lifecycle action imdswatch owes the Auto Scaling service, as recorded in the state directory.
public struct PendingLifecycleAction: Sendable, Equatable, Codable {
    /// Where the action stands.
    public enum Phase: String, Sendable, Codable {
        /// Recorded before the event's hooks started; they may still be running.
        case hooksRunning = "hooks-running"
        /// The hooks ended; ``PendingLifecycleAction/result`` is what to send.
        case hooksDone = "hooks-done"
        /// `CompleteLifecycleAction` was confirmed (or the action was gone): never sent again.
        case completed
    }

    /// The id of the `asg-lifecycle-state` event it came from.
    public var eventID: String
    /// The action.
    public var target: LifecycleActionTarget
    /// The signing region.
    public var region: String
    /// The phase.
    public var phase: Phase
    /// The result to send, once known.
    public var result: LifecycleActionResult?
    /// When it was recorded, Unix milliseconds.
    public var recordedAt: Int64
}

/// The lifecycle actions file (`lifecycle-actions.json` in the state directory), written atomically and durably
/// on every change. Completed actions are kept for a week (so that a completion is never sent twice), then pruned.
public struct LifecycleActionStore: Sendable {
    /// The file's name in the state directory.
    public static let fileName = "lifecycle-actions.json"
    /// How long completed actions are kept.
    public static let retention: Int64 = 7 * 86_400_000

    /// The state directory.
    public let directory: String

    /// Creates a store in `directory` (the file is created on the first write).
    public init(directory: String) {
        self.directory = directory
    }

    /// Every recorded action.
    /// - Throws: ``DurableStateFileError`` when the file cannot be read, or a message when it is not valid.
    public func load() throws -> [PendingLifecycleAction] {
        guard let bytes = try DurableStateFile.read(directory: directory, name: Self.fileName) else { return [] }
        do {
            return try JSONDecoder().decode([PendingLifecycleAction].self, from: Data(bytes))
        } catch {
            throw DurableStateFileError(message: "\(directory)/\(Self.fileName) is not a valid lifecycle actions file: \(error)")
        }
    }

    /// Replaces the file with `actions`, dropping completed ones older than ``retention``.
    /// - Throws: ``DurableStateFileError``.
    public func save(_ actions: [PendingLifecycleAction], nowMilliseconds: Int64) throws {
        let kept = actions.filter { $0.phase != .completed || nowMilliseconds - $0.recordedAt < Self.retention }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableStateFile.write(Array(try encoder.encode(kept)), directory: directory, name: Self.fileName)
    }
}
