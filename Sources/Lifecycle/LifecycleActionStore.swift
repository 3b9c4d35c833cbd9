public import AWS
public import Events
import Durability
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
    /// - Throws: ``SafeFile/Failure`` when the file cannot be read (a symlink or FIFO included), or
    ///   ``LifecycleActionStoreError`` when it is not valid.
    public func load() throws -> [PendingLifecycleAction] {
        guard let bytes = try SafeFile.readRegularFileIfPresent(directory + "/" + Self.fileName, limit: 1 << 20) else {
            return []
        }
        do {
            return try JSONDecoder().decode([PendingLifecycleAction].self, from: Data(bytes))
        } catch {
            throw LifecycleActionStoreError(message: "\(directory)/\(Self.fileName) is not a valid lifecycle actions file: \(error)")
        }
    }

    /// Replaces the file with `actions`, dropping completed ones older than ``retention``.
    /// - Throws: ``SafeFile/Failure`` naming the failed step.
    public func save(_ actions: [PendingLifecycleAction], nowMilliseconds: Int64) throws {
        let kept = actions.filter { $0.phase != .completed || nowMilliseconds - $0.recordedAt < Self.retention }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(kept))
        if SafeFile.kind(of: directory) == nil { try SafeFile.makeDirectory(directory) }
        try SafeFile.writeDurably(bytes, directory: directory, name: Self.fileName)
    }
}

/// A lifecycle actions file that is not valid JSON of the expected shape.
public struct LifecycleActionStoreError: Error, Sendable, CustomStringConvertible {
    /// The file and the cause, one line.
    public var message: String
    public var description: String { message }
}
