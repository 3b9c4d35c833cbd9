/// Input that would crash TOMLKit's parser (toml++ 3.4.0), refused before it gets there.
///
/// toml++ asserts, instead of reporting a syntax error, when a table header's first key does not start with a bare
/// key character or a quote: `[é]`, `[=]`, `[#]`, `[ .a]`, `[[é]]`, a `[` alone on a line abort the process (SwiftPM builds C++ without
/// `NDEBUG`, so the assertion is live; with `NDEBUG` it would be undefined behaviour), and when a `}` stands where an
/// array expects a value (`a = [}`, `a = [1, }`). Found by `Fuzz/` (fuzz-config).
enum TOMLGuard {
    /// The first line that opens a table header with something other than a key, as a syntax error toml++ would
    /// have reported: line and column (1-based, in Unicode scalars) and the character.
    ///
    /// Lines inside multi-line arrays or strings are scanned too, so a nested array starting with `[+1` or `[{` on its
    /// own line is refused as well; no key of the imdswatch config takes such a value.
    static func badTableHeader(in text: String) -> (line: Int, column: Int, message: String)? {
        var lineNumber = 0
        for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var index = line.startIndex
            func skipBlanks() {
                while index < line.endIndex, line[index] == " " || line[index] == "\t" || line[index] == "\u{FEFF}" {
                    index = line.index(after: index)
                }
            }
            skipBlanks()
            guard index < line.endIndex, line[index] == "[" else { continue }
            index = line.index(after: index)
            skipBlanks()
            if index < line.endIndex, line[index] == "[" {
                index = line.index(after: index)
                skipBlanks()
            }
            let column = line.distance(from: line.startIndex, to: index) + 1
            let shown: String
            if index == line.endIndex || line[index] == "\r" {
                shown = "end of line" // `[` alone on a line crashes toml++ too
            } else {
                let scalar = line[index]
                if isKeyStart(scalar) || scalar == "]" { continue }
                shown =
                    scalar.value < 0x20 || scalar.value == 0x7F
                    ? "\\u{\(String(scalar.value, radix: 16))}" : "'" + String(Character(scalar)) + "'"
            }
            return (
                lineNumber, column,
                "Error while parsing table header: expected a bare key starting character or string delimiter, saw \(shown)"
            )
        }
        return nil
    }

    /// The first `}` whose innermost open bracket is an array's `[` (`a = [}`, `a = [1, }`, `a = { b = [}] }`), as the
    /// syntax error toml++ should have reported: line and column (1-based, in Unicode scalars) and the message.
    ///
    /// In valid TOML every `}` outside strings and comments closes the innermost `{`, so this refuses nothing valid.
    /// Strings (basic, literal, multi-line) and comments are skipped; a single-line string ends at its line's end.
    static func braceClosingArray(in text: String) -> (line: Int, column: Int, message: String)? {
        let scalars = Array(text.unicodeScalars)
        var openBrackets: [Unicode.Scalar] = []
        var line = 1
        var lineStart = 0
        var index = 0
        func isScalar(_ position: Int, _ scalar: Unicode.Scalar) -> Bool {
            position < scalars.count && scalars[position] == scalar
        }
        func newLine(at position: Int) {
            line += 1
            lineStart = position + 1
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\n":
                newLine(at: index)
                index += 1
            case "#":
                while index < scalars.count, scalars[index] != "\n" { index += 1 }
            case "\"", "'":
                let multiLine = isScalar(index + 1, scalar) && isScalar(index + 2, scalar)
                index += multiLine ? 3 : 1
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\n" {
                        if !multiLine { break }
                        newLine(at: index)
                    } else if inner == "\\", scalar == "\"" {
                        if isScalar(index + 1, "\n") { newLine(at: index + 1) }
                        index += 2
                        continue
                    } else if inner == scalar,
                        !multiLine || (isScalar(index + 1, scalar) && isScalar(index + 2, scalar))
                    {
                        index += multiLine ? 3 : 1
                        break
                    }
                    index += 1
                }
            case "[", "{":
                openBrackets.append(scalar)
                index += 1
            case "]":
                if openBrackets.last == "[" { openBrackets.removeLast() }
                index += 1
            case "}":
                if openBrackets.last == "[" {
                    return (
                        line, index - lineStart + 1,
                        "Error while parsing array: expected a value, a comma or the closing ']', saw '}'"
                    )
                }
                if openBrackets.last == "{" { openBrackets.removeLast() }
                index += 1
            default:
                index += 1
            }
        }
        return nil
    }

    /// `A-Z a-z 0-9 _ -` (bare keys) and the string delimiters `"` and `'`.
    private static func isKeyStart(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-", "\"", "'": true
        default: false
        }
    }

    /// The first `\u0000` or `\U00000000` escape (a NUL) in the text, with its line, column and the key it sets.
    ///
    /// TOMLKit hands strings over as C strings, so a NUL would silently cut a value (`"/etc/x\u0000y"` became
    /// `/etc/x`); refused here instead, naming the key.
    static func nulEscape(in text: String) -> (line: Int, column: Int, key: String)? {
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let scalars = Array(line.unicodeScalars)
            var index = 0
            while index < scalars.count {
                guard scalars[index] == "\\" else {
                    index += 1
                    continue
                }
                let next = index + 1 < scalars.count ? scalars[index + 1] : " "
                let width = next == "u" ? 4 : next == "U" ? 8 : 0
                if width > 0, index + 2 + width <= scalars.count,
                    scalars[(index + 2)..<(index + 2 + width)].allSatisfy({ $0 == "0" })
                {
                    let key = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingSpaces() } ?? ""
                    return (lineNumber, index + 1, key)
                }
                index += 2 // an escaped character, possibly another backslash
            }
        }
        return nil
    }
}
