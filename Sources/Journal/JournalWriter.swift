import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes entries to journald with `sd_journal_sendv`: the only place that hands pointers to libsystemd's journal.
enum JournalWriter {
    /// Sends one entry.
    ///
    /// All fields are laid out in one byte buffer (`NAME=value`, binary-safe, so values may hold newlines) and an
    /// `iovec` per field points into it while `sd_journal_sendv` runs.
    /// - Parameter fields: The entry's fields.
    /// - Throws: ``JournalError`` with code `.journalSend` and the errno libsystemd returned.
    static func send(_ fields: [JournalField]) throws(JournalError) {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 1 })
        var spans: [(offset: Int, count: Int)] = []
        spans.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            spans.append((start, buffer.count - start))
        }
        let result: Int32 = buffer.withUnsafeMutableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return -EINVAL }
            let vectors = spans.map { iovec(iov_base: base + $0.offset, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { vectorBuffer -> Int32 in
                sd_journal_sendv(vectorBuffer.baseAddress, Int32(vectorBuffer.count))
            }
        }
        if result < 0 {
            throw JournalError(code: .journalSend, errno: -result, context: "/run/systemd/journal/socket")
        }
    }
}
