/// Splits a hook's output stream into lines with bounded memory: a line longer than `maxLineBytes` is cut
/// (the rest up to the newline is counted, not kept), and after `maxTotalBytes` nothing more is emitted, only
/// counted. Whatever the hook prints, at most one line of `maxLineBytes` is held.
struct HookOutputLines: Sendable {
    /// One line to log.
    struct Line: Sendable, Equatable {
        var text: String
        /// Bytes dropped from this line because it was too long.
        var truncatedBytes: Int
    }

    let maxLineBytes: Int
    let maxTotalBytes: Int
    private var current: [UInt8] = []
    private var droppedInLine = 0
    private(set) var emittedBytes = 0
    /// Bytes not logged because the total bound was reached.
    private(set) var suppressedBytes = 0

    init(maxLineBytes: Int, maxTotalBytes: Int) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.maxTotalBytes = max(0, maxTotalBytes)
    }

    /// Takes the next chunk of output; returns the complete lines it ends.
    mutating func append(_ bytes: [UInt8]) -> [Line] {
        var lines: [Line] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            if emittedBytes >= maxTotalBytes {
                suppressedBytes += rest.count
                break
            }
            let newline = HookFileSystem.firstNewline(in: rest)
            let piece = rest[..<(newline ?? rest.endIndex)]
            let room = maxLineBytes - current.count
            current.append(contentsOf: piece.prefix(room))
            droppedInLine += max(0, piece.count - room)
            guard let newline else { break }
            lines.append(takeLine())
            rest = rest[(newline + 1)...]
        }
        return lines
    }

    /// The unterminated last line, if any, at end of stream.
    mutating func finish() -> Line? {
        guard !current.isEmpty || droppedInLine > 0 else { return nil }
        return takeLine()
    }

    private mutating func takeLine() -> Line {
        if current.last == UInt8(ascii: "\r") { current.removeLast() }
        let line = Line(text: String(decoding: current, as: UTF8.self), truncatedBytes: droppedInLine)
        emittedBytes += current.count + droppedInLine + 1
        current.removeAll(keepingCapacity: true)
        droppedInLine = 0
        return line
    }
}
