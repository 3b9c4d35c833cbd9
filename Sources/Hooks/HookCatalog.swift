import Durability
import Events

/// One hook that will run: an executable file in `hooks.d/` or `hooks.d/TYPE.d/`.
package struct Hook: Sendable, Equatable {
    /// The file name (`10-stop-services`): the name in logs and `IMDSWATCH_HOOK`.
    package var name: String
    /// The full path of the file (a symlink stays a symlink: the kernel follows it at exec).
    package var path: String
    /// The path relative to the hooks directory (`spot-interruption.d/10-stop-services`).
    package var relativePath: String

    /// Creates a hook.
    package init(name: String, path: String, relativePath: String) {
        self.name = name
        self.path = path
        self.relativePath = relativePath
    }
}

/// Why a file in the hooks directory does not run.
package enum HookSkipReason: Sendable, Equatable, CustomStringConvertible {
    /// The name starts with a dot.
    case hidden
    /// The name marks a backup, a package manager leftover, an editor swap file, or a disabled or example hook;
    /// the associated value is the matching pattern (`~`, `.dpkg-*`, `.example`…).
    case ignoredName(String)
    /// No execute permission for the daemon.
    case notExecutable
    /// A directory that is not a `TYPE.d` of a known event type.
    case directory
    /// A `NAME.d` directory whose NAME is not an event type (probably a typo).
    case unknownTypeDirectory
    /// Neither a regular file nor a directory (a socket, a FIFO, a device), or a dangling symlink.
    case notRegularFile
    /// Writable by its group or by everyone: whoever can write it could run code as the daemon.
    case groupOrWorldWritable
    /// Owned by a user other than root or the daemon's user: that user could run code as the daemon.
    case foreignOwner(UInt32)
    /// The directory holding it is unsafe (group/world-writable or foreign-owned): every file in it is skipped.
    case unsafeDirectory(String)
    /// A directory or symlink on the way to the file (its target's directory, an ancestor of `hooks.d`) could be
    /// changed by another user.
    case unsafePath(String)
    /// The file could not be examined.
    case unreadable(String)

    /// A privilege-escalation risk: logged at error level, not merely skipped.
    package var isUnsafe: Bool {
        switch self {
        case .groupOrWorldWritable, .foreignOwner, .unsafeDirectory, .unsafePath: true
        default: false
        }
    }

    package var description: String {
        switch self {
        case .hidden: "hidden file"
        case .ignoredName(let pattern): "name ends in \(pattern)"
        case .notExecutable: "not executable (chmod 755 to enable)"
        case .directory: "directory"
        case .unknownTypeDirectory: "directory named like TYPE.d for an unknown event type"
        case .notRegularFile: "not a regular file"
        case .groupOrWorldWritable: "group- or world-writable (privilege escalation risk; chmod go-w)"
        case .foreignOwner(let uid):
            "owned by uid \(uid), neither root nor the daemon's user (privilege escalation risk)"
        case .unsafeDirectory(let reason): "in an unsafe directory: \(reason)"
        case .unsafePath(let reason): "unsafe path (privilege escalation risk): \(reason)"
        case .unreadable(let error): "cannot be examined: \(error)"
        }
    }
}

/// A file in the hooks directory that does not run, and why.
package struct SkippedHookFile: Sendable, Equatable {
    /// The file name.
    package var name: String
    /// The path relative to the hooks directory.
    package var relativePath: String
    /// Why it is skipped.
    package var reason: HookSkipReason
}

/// The hooks that run for one event type, in order, and the files that were skipped.
package struct HookPlan: Sendable, Equatable {
    /// The event type.
    package var eventType: EventType
    /// The hooks, in run order (file name byte order, `hooks.d/` before `TYPE.d/` on equal names).
    package var hooks: [Hook]
    /// Files of `hooks.d/` and `hooks.d/TYPE.d/` that do not run.
    package var skipped: [SkippedHookFile]
    /// Set when the hooks directory itself cannot be read (a missing directory is not an error: no hooks).
    package var directoryError: String?
}

/// Finds the hooks of an event type in a `hooks.d` directory. Reads the directory afresh on every call.
///
/// Rules: every executable regular file directly in `hooks.d/` runs for every event; every executable regular
/// file in `hooks.d/TYPE.d/` runs for TYPE. Symlinks are followed and the target is checked (it must be a
/// regular, executable, safe file, and every directory and symlink on the way from `/` must be owned by root or
/// the daemon's user and not writable by others). See ``HookSkipReason`` for what is skipped. The runner checks
/// each hook again on the descriptor it executes (``HookFile``).
package struct HookCatalog: Sendable {
    /// The hooks directory.
    package var directory: String

    /// Creates a catalog of `directory` (for example `/etc/imdswatch/hooks.d`).
    package init(directory: String) {
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    /// The hooks for `type`, in run order, and every skipped file with its reason.
    package func plan(for type: EventType) -> HookPlan {
        let owner = HookFileSystem.effectiveUserID
        var plan = HookPlan(eventType: type, hooks: [], skipped: [], directoryError: nil)
        // (name bytes, rank) sorts hooks.d/ before TYPE.d/ on equal names.
        var ordered: [(key: [UInt8], rank: Int, hook: Hook)] = []
        // Whoever can write hooks.d can replace TYPE.d too: an unsafe hooks.d makes every hook unsafe.
        let topProblem = Self.unsafety(of: directory, owner: owner)

        for (rank, subdirectory) in [nil, "\(type.rawValue).d"].enumerated() {
            let path = subdirectory.map { "\(directory)/\($0)" } ?? directory
            let prefix = subdirectory.map { "\($0)/" } ?? ""
            let names: [String]
            do {
                names = try HookFileSystem.entries(of: path)
            } catch {
                // No directory (or no TYPE.d) simply means no hooks.
                if error.errno != 2, subdirectory == nil || error.errno != 20 {
                    plan.directoryError = error.description
                }
                continue
            }
            let directoryProblem = topProblem ?? Self.unsafety(of: path, owner: owner)
            for name in names.sorted(by: Self.byteOrder) {
                let relative = prefix + name
                let filePath = "\(path)/\(name)"
                if subdirectory == nil, name.hasSuffix(".d"), Self.isDirectory(filePath) {
                    let typeName = String(name.dropLast(2))
                    if EventType(rawValue: typeName) == nil, !typeName.hasPrefix(".") {
                        plan.skipped.append(.init(name: name, relativePath: relative, reason: .unknownTypeDirectory))
                    }
                    continue
                }
                if let reason = directoryProblem.map(HookSkipReason.unsafeDirectory)
                    ?? Self.skipReason(name: name, path: filePath, owner: owner)
                {
                    plan.skipped.append(.init(name: name, relativePath: relative, reason: reason))
                } else {
                    ordered.append((Array(name.utf8), rank, Hook(name: name, path: filePath, relativePath: relative)))
                }
            }
        }
        ordered.sort { $0.key == $1.key ? $0.rank < $1.rank : $0.key.lexicographicallyPrecedes($1.key) }
        plan.hooks = ordered.map(\.hook)
        return plan
    }

    /// Whether the hooks directory exists (a missing one means no hooks, which `hooks list` points out).
    package var directoryExists: Bool { Self.isDirectory(directory) }

    /// The plans of every event type, in `EventType.allCases` order.
    package func plans() -> [HookPlan] {
        EventType.allCases.map(plan(for:))
    }

    /// The reason `name` is skipped by its name alone, or `nil`.
    package static func nameSkipReason(_ name: String) -> HookSkipReason? {
        if name.hasPrefix(".") { return .hidden }
        if name.hasSuffix("~") { return .ignoredName("~") }
        for suffix in [".orig", ".swp", ".disabled", ".example"] where name.hasSuffix(suffix) {
            return .ignoredName(suffix)
        }
        if let dot = name.lastIndex(of: ".") {
            let extensionName = name[name.index(after: dot)...]
            if extensionName.hasPrefix("dpkg-") { return .ignoredName(".dpkg-*") }
            if extensionName.hasPrefix("rpm") { return .ignoredName(".rpm*") }
        }
        return nil
    }

    /// The reason the file at `path` does not run, or `nil` when it runs.
    static func skipReason(name: String, path: String, owner: UInt32) -> HookSkipReason? {
        if let reason = nameSkipReason(name) { return reason }
        switch HookFile.open(path, owner: owner) {
        case .opened: return nil
        case .refused(let reason): return reason
        }
    }

    /// Why a directory's files must not run (it, or an ancestor, is foreign-owned or writable by others), or `nil`.
    /// A sticky world-writable directory (like /tmp) as `hooks.d` or `TYPE.d` still lets anyone add files: unsafe.
    static func unsafety(of directory: String, owner: UInt32) -> String? {
        TrustedPath(trustedUser: owner).problem(withDirectory: directory)
    }

    static func isDirectory(_ path: String) -> Bool {
        if case .success(let status) = HookFileSystem.status(of: path) { return status.kind == .directory }
        return false
    }

    /// Byte order of the UTF-8 names, as `run-parts` (strcmp) sorts them.
    static func byteOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
