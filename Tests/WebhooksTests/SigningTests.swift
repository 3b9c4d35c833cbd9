import Events
import Foundation
import HTTP
import InMemoryLogging
import Logging
import Testing

@testable import Webhooks

@Suite struct SigningTests {
    @Test func signatureIsLowercaseHexHMACSHA256() {
        // RFC 4231, test case 2.
        let secret = WebhookSecret(bytes: Array("Jefe".utf8))
        #expect(
            secret.signature(for: Array("what do ya want for nothing?".utf8))
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func secretNeverShowsInDescriptions() {
        let secret = WebhookSecret(bytes: Array("hunter2-very-secret".utf8))
        let endpoint = WebhookEndpoint(url: "http://127.0.0.1/", secret: secret)
        #expect(!"\(secret)".contains("hunter2"))
        #expect(!"\(endpoint)".contains("hunter2"))
        #expect(!String(reflecting: endpoint).contains("hunter2"))
    }

    @Test func loaderStripsOneLineBreakAndWarnsWhenReadableByOthers() throws {
        let directory = temporaryDirectory()
        let path = directory + "/secret"
        try Data("s3cr3t-value\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let (logger, handler) = capturingLogger()
        let secret = try WebhookSecret.load(fromFile: path, logger: logger)
        #expect(secret.bytes == Array("s3cr3t-value".utf8))
        #expect(
            handler.entries.contains { $0.level == .warning && "\($0.message)".contains("readable by group or others") }
        )
        #expect(!renderedLines(handler).joined().contains("s3cr3t"))

        handler.clear()
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        _ = try WebhookSecret.load(fromFile: path, logger: logger)
        #expect(handler.entries.isEmpty)
    }

    @Test func aSecretBehindASymlinkIsJudgedByItsTarget() throws {
        let directory = temporaryDirectory()
        let target = directory + "/target"
        try Data("s3cr3t-value\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        #expect(symlink(target, directory + "/link") == 0)
        let (logger, handler) = capturingLogger()
        #expect(
            try WebhookSecret.load(fromFile: directory + "/link", logger: logger).bytes == Array("s3cr3t-value".utf8))
        #expect(handler.entries.isEmpty, "the link's own mode (0777) is not the secret's")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target)
        _ = try WebhookSecret.load(fromFile: directory + "/link", logger: logger)
        #expect(handler.entries.contains { $0.level == .warning && "\($0.message)".contains("mode 644") })
    }

    @Test func loaderRejectsMissingAndEmptyFiles() throws {
        let directory = temporaryDirectory()
        let (logger, _) = capturingLogger()
        let missing = #expect(throws: WebhookError.self) {
            try WebhookSecret.load(fromFile: directory + "/none", logger: logger)
        }
        #expect(missing?.code == .secretFile)
        #expect(missing?.description == "cannot read webhook secret file \(directory)/none: no such file or directory")
        _ = FileManager.default.createFile(atPath: directory + "/empty", contents: Data("\n".utf8))
        let empty = #expect(throws: WebhookError.self) {
            try WebhookSecret.load(fromFile: directory + "/empty", logger: logger)
        }
        #expect(empty?.code == .secretFile)
    }
}
