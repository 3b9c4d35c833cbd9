import Foundation
import Testing

/// The module boundaries issue 12 asks for, read from the sources themselves: the daemon's code never reaches the
/// simulator (nor swift-nio, except through Telemetry's metrics listener), and the demo runs no hooks of its own.
@Suite struct ModuleGraphTests {
    @Test func daemonTargetNeverDependsOnTheSimulator() throws {
        let graph = try PackageGraph.read()
        let daemon = try #require(graph.dependencies["Daemon"], "no Daemon target in Package.swift")
        #expect(daemon.contains("Hooks") && daemon.contains("Lifecycle"), "\(daemon)")
        let reached = graph.closure(of: "Daemon")
        #expect(!reached.contains("Simulator"), "Daemon reaches Simulator: \(reached.sorted())")
        #expect(!daemon.contains("swift-nio"), "Daemon depends on swift-nio directly")
        // The reading itself works: the demo does reach the simulator.
        #expect(graph.closure(of: "Demo").contains("Simulator"))
    }

    @Test func daemonSourcesImportNeitherTheSimulatorNorNIO() throws {
        let graph = try PackageGraph.read()
        // Every target the daemon reaches, but Telemetry: its metrics listener may use swift-nio.
        let targets = graph.closure(of: "Daemon").union(["Daemon"]).filter { graph.dependencies[$0] != nil }
        var checked = 0
        for target in targets.sorted() {
            for (path, text) in try swiftFiles(in: "Sources/\(target)") {
                checked += 1
                for line in text.split(separator: "\n") {
                    guard let module = Self.importedModule(line) else { continue }
                    let forbidden = module == "Simulator" || (module.hasPrefix("NIO") && target != "Telemetry")
                    #expect(!forbidden, "\(path): \(line)")
                }
            }
        }
        #expect(checked >= 40, "only \(checked) files checked")
    }

    @Test func demoRunsNoHooksOfItsOwnAndEmbedsTheShippedHooksDirectory() throws {
        let files = try swiftFiles(in: "Sources/Demo")
        #expect(files.count >= 5)
        for (path, text) in files {
            for forbidden in ["HookRunner(", "runSequence(", "HookDispatcher(", "HookCatalog("] {
                #expect(!text.contains(forbidden), "\(path) calls \(forbidden)")
            }
        }
        let link = PackageGraph.repository.appendingPathComponent("Sources/Demo/hooks.d").path
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "../../hooks.d")
    }

    @Test func eventsHoldsTheEventModelAndDurabilityTheStateDirectoryFiles() throws {
        let graph = try PackageGraph.read()
        let events = try #require(graph.dependencies["Events"], "no Events target in Package.swift")
        #expect(!events.contains("Durability"), "Events depends on Durability: \(events.sorted())")
        #expect(try #require(graph.dependencies["Durability"], "no Durability target").contains("Events"))
        for (path, text) in try swiftFiles(in: "Sources/Events") {
            for durable in ["struct SafeFile", "enum SafeFile", "struct TrustedPath", "enum SystemCall", "fsync("] {
                #expect(!text.contains(durable), "\(path) holds \(durable): it belongs in Durability")
            }
        }
        let durability = Set(try swiftFiles(in: "Sources/Durability").map { ($0.0 as NSString).lastPathComponent })
        #expect(
            durability.isSuperset(of: ["SafeFile.swift", "TrustedPath.swift", "SystemCall.swift", "EventJournal.swift"]
            ),
            "\(durability.sorted())")
    }

    /// The module a line imports (`import X`, `package import X`, `@preconcurrency import X`), or `nil`.
    static func importedModule(_ line: Substring) -> String? {
        let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
        guard let index = words.firstIndex(of: "import"), index <= 1, index + 1 < words.count else { return nil }
        if index == 1, !["public", "package", "internal", "private", "fileprivate"].contains(words[0]) { return nil }
        return words[index + 1].split(separator: ".").first.map(String.init)
    }

    /// The `.swift` files under a folder of the repository, with their text.
    private func swiftFiles(in folder: String) throws -> [(String, String)] {
        let root = PackageGraph.repository.appendingPathComponent(folder)
        let enumerator = try #require(FileManager.default.enumerator(atPath: root.path))
        var files: [(String, String)] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let path = root.appendingPathComponent(relative).path
            files.append((folder + "/" + relative, try String(contentsOfFile: path, encoding: .utf8)))
        }
        return files
    }
}

/// The targets of Package.swift and the names each one's declaration mentions (targets, products, packages),
/// read from the manifest's text.
private struct PackageGraph {
    /// Every target's mentioned names, by target name.
    var dependencies: [String: Set<String>]

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read() throws -> PackageGraph {
        let manifest = try String(contentsOf: repository.appendingPathComponent("Package.swift"), encoding: .utf8)
        // Comments out, then one chunk per target declaration, up to the next one.
        let code = manifest.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "//").map { line[..<$0.lowerBound] } ?? line }
            .joined(separator: "\n")
        let declaration = /\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)"/
        let matches = code.matches(of: declaration)
        var dependencies: [String: Set<String>] = [:]
        for (index, match) in matches.enumerated() {
            let end = index + 1 < matches.count ? matches[index + 1].range.lowerBound : code.endIndex
            let body = code[match.range.upperBound..<end]
            dependencies[String(match.output.1)] = Set(body.matches(of: /"([^"]+)"/).map { String($0.output.1) })
        }
        return PackageGraph(dependencies: dependencies)
    }

    /// The targets `target` depends on, directly or not.
    func closure(of target: String) -> Set<String> {
        var reached: Set<String> = []
        var next = [target]
        while let current = next.popLast() {
            for name in dependencies[current] ?? [] where dependencies[name] != nil && reached.insert(name).inserted {
                next.append(name)
            }
        }
        return reached
    }
}
