import AWS
import Durability
import Events
import Foundation

/// One lifecycle action imdswatch owes the Auto Scaling service, as recorded in the state directory.
package struct PendingLifecycleAction: Sendable, Equatable, Codable {
    /// Where the action stands.
    package enum Phase: String, Sendable, Codable {
        /// Recorded before the event's hooks started; they may still be running.
        case hooksRunning = "hooks-running"
        /// The hooks ended; ``PendingLifecycleAction/result`` is what to send.
        case hooksDone = "hooks-done"
        /// `CompleteLifecycleAction` was confirmed (or the action was gone): never sent again.
        case completed
        /// Not confirmed, and never sent again: the hook's timeout has certainly passed (the group applied its
        /// `DefaultResult`), or the permission to complete it is missing.
        case gaveUp = "gave-up"

        /// Whether nothing more is sent for the action.
        package var isFinal: Bool { self == .completed || self == .gaveUp }
    }

    /// The longest `HeartbeatTimeout` AWS allows (7200 s): the bound used when `DescribeLifecycleHooks` cannot say.
    package static let longestHeartbeatTimeout: Int64 = 7200

    /// The hook and the instance of an action whose group is not known yet.
    package struct GroupLookup: Sendable, Equatable, Codable {
        /// `LifecycleHookName`.
        package var hook: String
        /// `InstanceId`.
        package var instanceID: String

        /// Creates the record of a lookup still owed.
        package init(hook: String, instanceID: String) {
            self.hook = hook
            self.instanceID = instanceID
        }
    }

    /// The id of the `asg-lifecycle-state` event it came from.
    package var eventID: String
    /// The action; `nil` while the group is unknown (``groupLookup`` holds the rest): the lookup is retried with
    /// the completion, for as long as the completion itself.
    package var target: LifecycleActionTarget?
    /// The hook and instance while ``target`` is `nil`.
    package var groupLookup: GroupLookup?
    /// The signing region.
    package var region: String
    /// The phase.
    package var phase: Phase
    /// The result to send, once known.
    package var result: LifecycleActionResult?
    /// When it was recorded, Unix milliseconds.
    package var recordedAt: Int64
    /// When the service last confirmed a heartbeat, Unix milliseconds.
    package var lastHeartbeatAt: Int64?
    /// The hook's `HeartbeatTimeout` in seconds, once `DescribeLifecycleHooks` said it.
    package var heartbeatTimeoutSeconds: Int64?
    /// The hook's `DefaultResult`, once `DescribeLifecycleHooks` said it.
    package var defaultResult: String?

    /// Creates a record.
    package init(
        eventID: String, target: LifecycleActionTarget?, groupLookup: GroupLookup? = nil, region: String, phase: Phase,
        result: LifecycleActionResult?, recordedAt: Int64, lastHeartbeatAt: Int64? = nil,
        heartbeatTimeoutSeconds: Int64? = nil,
        defaultResult: String? = nil
    ) {
        self.eventID = eventID
        self.target = target
        self.groupLookup = groupLookup
        self.region = region
        self.phase = phase
        self.result = result
        self.recordedAt = recordedAt
        self.lastHeartbeatAt = lastHeartbeatAt
        self.heartbeatTimeoutSeconds = heartbeatTimeoutSeconds
        self.defaultResult = defaultResult
    }

    /// The action for log lines: its target, or the hook and instance with the group unknown.
    package var label: String {
        if let target { return target.description }
        return "group unknown, hook \(groupLookup?.hook ?? "?"), instance \(groupLookup?.instanceID ?? "?")"
    }

    /// When the action has certainly timed out at the service, Unix seconds: the hook's `HeartbeatTimeout` (or
    /// ``longestHeartbeatTimeout``) after its last confirmed heartbeat, or after it was recorded (it started before).
    package var certainTimeoutSeconds: Int64 {
        max(recordedAt, lastHeartbeatAt ?? 0) / 1000 + (heartbeatTimeoutSeconds ?? Self.longestHeartbeatTimeout)
    }
}

/// The lifecycle actions file (`lifecycle-actions.json` in the state directory), written atomically and durably
/// on every change. Completed actions are kept for a week (so that a completion is never sent twice), then pruned.
package struct LifecycleActionStore: Sendable {
    /// The file's name in the state directory.
    package static let fileName = "lifecycle-actions.json"
    /// How long completed actions are kept.
    package static let retention: Int64 = 7 * 86_400_000

    /// The state directory.
    package let directory: String

    /// Creates a store in `directory` (the file is created on the first write).
    package init(directory: String) {
        self.directory = directory
    }

    /// What ``loadKeeping(nowMilliseconds:)`` found.
    package struct Loaded: Sendable {
        /// The actions read (from a damaged file: those that could be read).
        package var actions: [PendingLifecycleAction]
        /// One sentence about a damaged or unreadable file, for the log; `nil` when all is well.
        package var problem: String?
    }

    /// Every recorded action; a file that is not valid (truncated, garbage, empty) is moved aside as
    /// `lifecycle-actions.json.corrupt-TIMESTAMP` (like the watch state), keeping every entry that still reads.
    /// - Parameter nowMilliseconds: The wall clock, for the moved file's name.
    /// - Returns: The actions, and one sentence saying what happened when the file was damaged.
    package func loadKeeping(nowMilliseconds: Int64) -> Loaded {
        let path = directory + "/" + Self.fileName
        let bytes: [UInt8]
        do {
            guard let read = try SafeFile.readRegularFileIfPresent(path, limit: 1 << 20) else {
                return Loaded(actions: [])
            }
            bytes = read
        } catch {
            return Loaded(actions: [], problem: "cannot read \(path) (\(error)): pending lifecycle actions unknown")
        }
        if let actions = try? JSONDecoder().decode([PendingLifecycleAction].self, from: Data(bytes)) {
            return Loaded(actions: actions)
        }
        let kept = Self.salvage(bytes)
        let keptText = kept.isEmpty ? "no entry could be read" : "kept the \(kept.count) entries that could be read"
        do {
            let target = try SafeFile.moveAside(
                directory: directory, fileName: Self.fileName, nowMilliseconds: nowMilliseconds)
            if !kept.isEmpty { try save(kept, nowMilliseconds: nowMilliseconds) }
            return Loaded(
                actions: kept,
                problem:
                    "\(path) is damaged (not a valid lifecycle actions file): moved it aside to \(target) and \(keptText)"
            )
        } catch {
            return Loaded(
                actions: kept,
                problem:
                    "\(path) is damaged (not a valid lifecycle actions file) and could not be moved aside (\(error)): \(keptText)"
            )
        }
    }

    /// The entries of a damaged file that still decode: each complete `{…}` object at the top level of the array.
    static func salvage(_ bytes: [UInt8]) -> [PendingLifecycleAction] {
        var found: [PendingLifecycleAction] = []
        var depth = 0
        var start: Int?
        var inString = false
        var escaped = false
        for (index, byte) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"):
                if depth == 0 { start = index }
                depth += 1
            case UInt8(ascii: "}") where depth > 0:
                depth -= 1
                if depth == 0, let begin = start,
                    let action = try? JSONDecoder().decode(
                        PendingLifecycleAction.self, from: Data(bytes[begin...index]))
                {
                    found.append(action)
                }
            default: break
            }
        }
        return found
    }

    /// Replaces the file with `actions`, dropping completed ones older than ``retention``.
    /// - Throws: ``SafeFile/Failure`` naming the failed step.
    package func save(_ actions: [PendingLifecycleAction], nowMilliseconds: Int64) throws {
        let kept = actions.filter { !$0.phase.isFinal || nowMilliseconds - $0.recordedAt < Self.retention }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array(try encoder.encode(kept))
        if SafeFile.kind(of: directory) == nil { try SafeFile.makeDirectory(directory) }
        try SafeFile.writeDurably(bytes, directory: directory, name: Self.fileName)
    }
}
