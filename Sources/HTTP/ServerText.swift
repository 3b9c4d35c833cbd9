/// Text a server sent (an AWS error message, a webhook receiver's answer, an IMDS body), made safe for one log
/// line: the one function used wherever such text is logged or put in an error message.
package enum ServerText {
    /// The longest excerpt kept, in characters (a full AWS error message fits; a 900 KB echo does not).
    package static let defaultLimit = 512

    /// Returns `text` ready for a log line: every secret in `secrets` (and its percent-encoded form) replaced by
    /// `***`, line breaks and other control characters shown as a space, and the result cut to `limit` characters
    /// with a note of the full length.
    /// - Parameters:
    ///   - text: What the server sent.
    ///   - secrets: The credentials in use (secret keys, session tokens, bearer tokens); empty strings are ignored.
    ///   - limit: The most characters kept.
    /// - Returns: One line, at most `limit` characters plus the length note.
    package static func excerpt(_ text: String, secrets: [String] = [], limit: Int = defaultLimit) -> String {
        cut(text, secrets: secrets, limit: limit, totalBytes: text.utf8.count)
    }

    /// The bytes of a body as an excerpt (invalid UTF-8 shown as U+FFFD); only the start of a large body is decoded.
    package static func excerpt(_ body: [UInt8], secrets: [String] = [], limit: Int = defaultLimit) -> String {
        let longestSecret = secrets.map(\.utf8.count).max() ?? 0
        let head = body.prefix(limit * 4 + longestSecret * 3)
        return cut(String(decoding: head, as: UTF8.self), secrets: secrets, limit: limit, totalBytes: body.count)
    }

    private static func cut(_ text: String, secrets: [String], limit: Int, totalBytes: Int) -> String {
        var scrubbed = text
        for secret in secrets where secret.count >= 4 {
            for form in Set([secret, percentEncoded(secret)]) {
                scrubbed = scrubbed.replacing(form, with: "***")
            }
        }
        var line = ""
        var kept = 0
        for character in scrubbed {
            guard kept < limit else { return line + "… (\(totalBytes) bytes in all)" }
            line.append(character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? " " : character)
            kept += 1
        }
        return line
    }

    private static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = Array("0123456789ABCDEF")
                result += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
            }
        }
        return result
    }
}
