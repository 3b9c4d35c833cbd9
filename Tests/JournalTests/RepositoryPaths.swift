import Foundation

/// Paths inside the repository, found from this file's location.
enum RepositoryPaths {
    /// The repository root (the folder holding Package.swift).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent() // JournalTests
        .deletingLastPathComponent() // Tests
        .deletingLastPathComponent()

    static var unit: URL { root.appendingPathComponent("systemd/imdswatch.service") }
    static var strictDropIn: URL { root.appendingPathComponent("systemd/imdswatch.service.d/strict.conf.example") }
    static var installScript: URL { root.appendingPathComponent("scripts/install") }
    static var uninstallScript: URL { root.appendingPathComponent("scripts/uninstall") }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ prefix: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
