import Foundation
import IMDSWatchTestKit
import Testing

@Suite("scripts/install and scripts/uninstall with DESTDIR", .serialized, .timeLimit(.minutes(2)))
struct InstallScriptTests {
    /// A scratch copy of the parts of the repository the scripts read, plus example hooks and a fake binary.
    struct Stage {
        let repository: URL
        let destination: URL
        let binary: URL

        init() throws {
            let base = try RepositoryPaths.temporaryDirectory("imdswatch-install")
            repository = base.appendingPathComponent("repo")
            destination = base.appendingPathComponent("dest")
            binary = base.appendingPathComponent("imdswatch-built")
            let files = FileManager.default
            for folder in ["scripts", "systemd"] {
                try files.copyItem(
                    at: RepositoryPaths.root.appendingPathComponent(folder),
                    to: repository.appendingPathComponent(folder))
            }
            try files.createDirectory(
                at: repository.appendingPathComponent("hooks.d/spot-interruption.d"), withIntermediateDirectories: true)
            try "#!/bin/sh\necho all\n".write(
                to: repository.appendingPathComponent("hooks.d/10-log"), atomically: true, encoding: .utf8)
            try "#!/bin/sh\necho drain\n".write(
                to: repository.appendingPathComponent("hooks.d/spot-interruption.d/50-drain.example"), atomically: true,
                encoding: .utf8
            )
            try "#!/bin/sh\necho built\n".write(to: binary, atomically: true, encoding: .utf8)
            try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        }

        func run(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
            var environment = ProcessInfo.processInfo.environment
            environment["DESTDIR"] = destination.path
            let result = try JournalFixtures.run(
                "/bin/bash", [repository.appendingPathComponent("scripts/\(script)").path] + arguments,
                environment: environment
            )
            return (result.status, String(decoding: result.output + result.errors, as: UTF8.self))
        }

        func path(_ path: String) -> String { destination.path + path }
        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: self.path(path)) }
        func read(_ path: String) throws -> String { try String(contentsOfFile: self.path(path), encoding: .utf8) }
        func write(_ text: String, to path: String) throws {
            try text.write(toFile: self.path(path), atomically: true, encoding: .utf8)
        }
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: self.path(path))[.posixPermissions] as? NSNumber)?
                .intValue ?? -1
        }
    }

    @Test func installsEverythingUnderDestdir() throws {
        let stage = try Stage()
        let result = try stage.run("install", ["--binary", stage.binary.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(try stage.read("/usr/local/bin/imdswatch") == "#!/bin/sh\necho built\n")
        #expect(try stage.mode("/usr/local/bin/imdswatch") == 0o755)
        #expect(
            try stage.read("/usr/local/lib/systemd/system/imdswatch.service")
                == String(contentsOf: RepositoryPaths.unit, encoding: .utf8))
        #expect(stage.exists("/usr/local/share/imdswatch/strict.conf.example"))
        #expect(stage.exists("/etc/imdswatch/imdswatch.toml"))
        #expect(try stage.read("/etc/imdswatch/hooks.d/10-log.example") == "#!/bin/sh\necho all\n")
        #expect(try stage.mode("/etc/imdswatch/hooks.d/10-log.example") == 0o644)
        #expect(stage.exists("/etc/imdswatch/hooks.d/spot-interruption.d/50-drain.example"))
        #expect(!stage.exists("/etc/imdswatch/hooks.d/spot-interruption.d/50-drain.example.example"))
    }

    @Test func reinstallIsIdempotentAndKeepsUserFiles() throws {
        let stage = try Stage()
        #expect(try stage.run("install", ["--binary", stage.binary.path]).status == 0)
        try stage.write("interval = 5\n", to: "/etc/imdswatch/imdswatch.toml")
        try stage.write("#!/bin/sh\n# mine\n", to: "/etc/imdswatch/hooks.d/10-log.example")
        try stage.write("#!/bin/sh\n# my own hook\n", to: "/etc/imdswatch/hooks.d/20-mine")
        let manifestBefore = try stage.read("/usr/local/share/imdswatch/install-manifest")

        let second = try stage.run("install", ["--binary", stage.binary.path])
        #expect(second.status == 0, "\(second.output)")
        #expect(try stage.read("/etc/imdswatch/imdswatch.toml") == "interval = 5\n")
        #expect(try stage.read("/etc/imdswatch/hooks.d/10-log.example") == "#!/bin/sh\n# mine\n")
        #expect(try stage.read("/etc/imdswatch/hooks.d/20-mine") == "#!/bin/sh\n# my own hook\n")
        #expect(try stage.read("/usr/local/share/imdswatch/install-manifest") == manifestBefore)
    }

    @Test func uninstallRemovesOnlyWhatInstallPutThere() throws {
        let stage = try Stage()
        #expect(try stage.run("install", ["--binary", stage.binary.path]).status == 0)
        try stage.write("interval = 5\n", to: "/etc/imdswatch/imdswatch.toml")
        try stage.write("#!/bin/sh\n# edited\n", to: "/etc/imdswatch/hooks.d/10-log.example")
        try stage.write("#!/bin/sh\n# my own hook\n", to: "/etc/imdswatch/hooks.d/20-mine")
        try FileManager.default.createDirectory(
            atPath: stage.path("/var/lib/imdswatch"), withIntermediateDirectories: true)
        try stage.write("{}", to: "/var/lib/imdswatch/state.json")

        let result = try stage.run("uninstall")
        #expect(result.status == 0, "\(result.output)")
        #expect(!stage.exists("/usr/local/bin/imdswatch"))
        #expect(!stage.exists("/usr/local/lib/systemd/system/imdswatch.service"))
        #expect(!stage.exists("/usr/local/share/imdswatch"))
        #expect(!stage.exists("/etc/imdswatch/hooks.d/spot-interruption.d/50-drain.example"))
        #expect(try stage.read("/etc/imdswatch/imdswatch.toml") == "interval = 5\n")
        #expect(try stage.read("/etc/imdswatch/hooks.d/10-log.example") == "#!/bin/sh\n# edited\n")
        #expect(try stage.read("/etc/imdswatch/hooks.d/20-mine") == "#!/bin/sh\n# my own hook\n")
        #expect(try stage.read("/var/lib/imdswatch/state.json") == "{}")

        // A second uninstall is harmless.
        #expect(try stage.run("uninstall").status == 0)
    }

    @Test func uninstallKeepsAnUntouchedDefaultConfig() throws {
        let stage = try Stage()
        #expect(try stage.run("install", ["--binary", stage.binary.path]).status == 0)
        #expect(try stage.run("uninstall").status == 0)
        #expect(stage.exists("/etc/imdswatch/imdswatch.toml"))
    }

    @Test func refusesAMissingBinary() throws {
        let stage = try Stage()
        let result = try stage.run("install", ["--binary", stage.path("/nope")])
        #expect(result.status != 0)
        #expect(!stage.exists("/usr/local/bin/imdswatch"))
    }
}
