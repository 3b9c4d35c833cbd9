import Foundation
import Testing

/// Issue 21: on the daemon path every task's lifetime is owned by a task group, except where a comment right above
/// an unstructured task (`Task {`, `Task(…)`, `Task.detached`) says why no task group can own it. The comment block
/// directly above the task must say `Unstructured:` and why.
@Suite struct UnstructuredTaskTests {
    /// Not the daemon path: the demo, the simulator, and the commands other than `run`.
    static let outsideTheDaemonPath = ["Sources/Demo/", "Sources/Simulator/", "Sources/imdswatch/Commands/"]

    @Test func everyUnstructuredTaskOnTheDaemonPathSaysWhyNoTaskGroupOwnsIt() throws {
        let root = Self.repository.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(atPath: root.path))
        var scanned = 0
        var justified = 0
        while let relative = enumerator.nextObject() as? String {
            let path = "Sources/" + relative
            guard path.hasSuffix(".swift"), !Self.outsideTheDaemonPath.contains(where: path.hasPrefix) else { continue }
            scanned += 1
            let text = try String(contentsOfFile: root.appendingPathComponent(relative).path, encoding: .utf8)
            let unjustified = Self.unjustifiedTasks(in: text)
            justified += Self.tasks(in: text).count - unjustified.count
            for line in unjustified {
                #expect(
                    Bool(false),
                    "\(path):\(line): an unstructured task without an `// Unstructured: why` comment above it")
            }
        }
        #expect(scanned >= 60, "only \(scanned) files scanned")
        // The reading itself works: the justified ones (IMDS token, metrics listener, hook leftovers) are found.
        #expect(justified >= 3, "only \(justified) justified unstructured tasks found")
    }

    @Test func theScanFindsAnUnjustifiedTaskAndAcceptsAJustifiedOne() {
        let text = """
            // A comment that says nothing about it.
            let first = Task { await work() }
            group.addTask { await work() }
            try await Task.sleep(for: .seconds(1))
            // Unstructured: NIO calls this synchronously, outside any task.
            Task {
                await render()
            }
            /// Unstructured: a doc comment above is fine too.
            let detached = Task.detached { await sweep() }
            let prioritized = Task(priority: .high) { await work() }
            """
        #expect(Self.tasks(in: text) == [2, 6, 10, 11])
        #expect(Self.unjustifiedTasks(in: text) == [2, 11])
    }

    /// The 1-based lines that start an unstructured task.
    static func tasks(in text: String) -> [Int] {
        // `Task` as a word of its own (not `addTask`, `scheduleTask(`, `Task.sleep`): at the start or after a
        // character that cannot end a name.
        let pattern = /(^|[^A-Za-z0-9_.])Task\s*(\{|\.detached\b|\()/
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            let code = line.trimmingCharacters(in: .whitespaces)
            guard !code.hasPrefix("//"), line.contains(pattern) else { return nil }
            return index + 1
        }
    }

    /// The lines of ``tasks(in:)`` whose comment block right above does not say `Unstructured:`.
    static func unjustifiedTasks(in text: String) -> [Int] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return tasks(in: text).filter { number in
            var index = number - 2
            while index >= 0 {
                let line = lines[index].trimmingCharacters(in: .whitespaces)
                guard line.hasPrefix("//") else { break }
                if line.contains("Unstructured:") { return false }
                index -= 1
            }
            return true
        }
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
