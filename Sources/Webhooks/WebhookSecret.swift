import Crypto
import Durability
import Events
import Foundation
import Logging

/// An HMAC key. Its description never shows the bytes, so it can sit in configuration values that get logged.
package struct WebhookSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The key bytes.
    package let bytes: [UInt8]

    /// Creates a secret from its bytes.
    package init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var description: String { "<secret, \(bytes.count) bytes>" }
    package var debugDescription: String { description }

    /// Reads a secret file: its bytes, without one trailing line break (`\n` or `\r\n`).
    ///
    /// Logs a warning (naming the file, never its content) when the file can be read by its group or by others.
    /// - Parameters:
    ///   - path: The file.
    ///   - logger: Where the permission warning goes.
    /// - Returns: The secret.
    /// - Throws: ``WebhookError`` with code ``WebhookError/Code/secretFile`` when the file cannot be read or is empty.
    package static func load(fromFile path: String, logger: Logger) throws(WebhookError) -> WebhookSecret {
        // One descriptor for the mode and the bytes: a symlink is judged by its target.
        let file: (bytes: [UInt8], mode: UInt32)
        do {
            file = try SafeFile.readRegularFileFollowingSymlink(path, limit: 64 << 10)
        } catch {
            throw WebhookError(
                code: .secretFile,
                message:
                    "cannot read webhook secret file \(path): \(error.reason ?? SystemCall.describe(errno: error.errno))"
            )
        }
        if file.mode & 0o044 != 0 {
            logger.warning(
                "webhook secret file \(path) is readable by group or others (mode \(String(file.mode & 0o777, radix: 8))); chmod 600 it"
            )
        }
        var bytes = file.bytes
        if bytes.last == 0x0A { bytes.removeLast() }
        if bytes.last == 0x0D { bytes.removeLast() }
        guard !bytes.isEmpty else {
            throw WebhookError(code: .secretFile, message: "webhook secret file \(path) is empty")
        }
        return WebhookSecret(bytes: bytes)
    }

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under this key: the `X-Imdswatch-Signature-256` value.
    package func signature(for body: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: bytes))
        return "sha256=" + Array(code).hexString
    }
}
