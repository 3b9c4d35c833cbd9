/// The line of each key in the text of a TOML file.
///
/// TOMLKit (over toml++) reports a position for syntax errors only; the values it returns carry none.
/// So semantic errors find their line here. The text, which TOMLKit has already accepted, is scanned line by
/// line: table headers (`[log]`, `[sources.spot]`, `[[webhook]]`, counting the elements of each array of
/// tables) set the current table, and every `key = value` line is recorded under its full path, e.g.
/// `log.level` or `webhook[1].format` (array elements are numbered from 0). The insides of strings,
/// multi-line strings and multi-line arrays are skipped, so text in them never looks like a key. Keys inside
/// inline tables (`headers = { … }`) and inside multi-line arrays are not recorded: ``line(for:)`` then falls
/// back to the line of the enclosing key or table.
struct SourceMap: Sendable {
    /// Full key path to its 1-based line.
    private(set) var lines: [String: Int] = [:]

    /// Scans `text`.
    /// - Parameter text: TOML text that the parser accepted.
    init(text: String) {
        var scanner = Scanner()
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            scanner.scan(Array(line), line: lineNumber, into: &lines)
        }
    }

    /// The line of `path`, else of the nearest enclosing key or table that has one.
    /// - Parameter path: A key path such as `webhook[0].events[2]`.
    /// - Returns: The 1-based line, or `nil` when neither the key nor any parent is in the text.
    func line(for path: String) -> Int? {
        var current = Substring(path)
        while !current.isEmpty {
            if let line = lines[String(current)] { return line }
            if current.hasSuffix("]"), let open = current.lastIndex(of: "[") {
                current = current[..<open]
            } else if let dot = current.lastIndex(of: ".") {
                current = current[..<dot]
            } else {
                break
            }
        }
        return nil
    }
}

/// The line-by-line state of the scan.
private struct Scanner {
    /// The path of the current table, `""` at the top.
    var table = ""
    /// The number of elements seen of each array of tables, by its path.
    var arrayCounts: [String: Int] = [:]
    /// The closing delimiter of a multi-line string that is still open.
    var openString: [Character]?
    /// How many `[` and `{` of a value are still open.
    var depth = 0

    mutating func scan(_ chars: [Character], line: Int, into lines: inout [String: Int]) {
        if openString != nil || depth > 0 {
            skipValue(chars, from: 0)
            return
        }
        var index = 0
        skipSpaces(chars, &index)
        guard index < chars.count, chars[index] != "#" else { return }
        if chars[index] == "[" {
            let isArray = index + 1 < chars.count && chars[index + 1] == "["
            index += isArray ? 2 : 1
            guard let parts = keyParts(chars, &index), !parts.isEmpty else { return }
            var path = ""
            for (position, part) in parts.enumerated() {
                path = path.isEmpty ? part : path + "." + part
                let isLast = position == parts.count - 1
                if !isLast, let count = arrayCounts[path], count > 0 {
                    path += "[\(count - 1)]"
                }
                if lines[path] == nil { lines[path] = line }
            }
            if isArray {
                let count = arrayCounts[path, default: 0]
                arrayCounts[path] = count + 1
                path += "[\(count)]"
                lines[path] = line
            }
            table = path
            return
        }
        guard let parts = keyParts(chars, &index), !parts.isEmpty,
            index < chars.count, chars[index] == "="
        else { return }
        var path = table
        for part in parts {
            path = path.isEmpty ? part : path + "." + part
            if lines[path] == nil { lines[path] = line }
        }
        skipValue(chars, from: index + 1)
    }

    /// Reads a dotted key (`a`, `a.b`, `"quoted key".c`), leaving `index` after the following `]`/`]]`
    /// of a header or at the `=` of a key/value pair.
    private func keyParts(_ chars: [Character], _ index: inout Int) -> [String]? {
        var parts: [String] = []
        while true {
            skipSpaces(chars, &index)
            guard index < chars.count else { return nil }
            var part = ""
            let first = chars[index]
            if first == "\"" || first == "'" {
                index += 1
                while index < chars.count, chars[index] != first {
                    if first == "\"", chars[index] == "\\", index + 1 < chars.count { index += 1 }
                    part.append(chars[index])
                    index += 1
                }
                index += 1
            } else {
                while index < chars.count, chars[index].isBareKeyCharacter {
                    part.append(chars[index])
                    index += 1
                }
                if part.isEmpty { return nil }
            }
            parts.append(part)
            skipSpaces(chars, &index)
            if index < chars.count, chars[index] == "." {
                index += 1
                continue
            }
            while index < chars.count, chars[index] == "]" { index += 1 }
            return parts
        }
    }

    /// Follows a value to the end of the line, tracking open multi-line strings and brackets.
    private mutating func skipValue(_ chars: [Character], from start: Int) {
        var index = start
        while index < chars.count {
            if let closing = openString {
                guard let end = find(closing, in: chars, from: index) else { return }
                index = end + closing.count
                openString = nil
                continue
            }
            let char = chars[index]
            switch char {
            case "#":
                return
            case "\"", "'":
                if index + 2 < chars.count, chars[index + 1] == char, chars[index + 2] == char {
                    openString = [char, char, char]
                    index += 3
                    continue
                }
                index += 1
                while index < chars.count, chars[index] != char {
                    if char == "\"", chars[index] == "\\" { index += 1 }
                    index += 1
                }
                index += 1
            case "[", "{":
                depth += 1
                index += 1
            case "]", "}":
                depth = max(0, depth - 1)
                index += 1
            default:
                index += 1
            }
        }
    }

    private func find(_ needle: [Character], in chars: [Character], from start: Int) -> Int? {
        guard chars.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= chars.count {
            if chars[index..<index + needle.count].elementsEqual(needle) {
                if needle.first == "\"", index > 0, chars[index - 1] == "\\" {
                    index += 1
                    continue
                }
                return index
            }
            index += 1
        }
        return nil
    }

    private func skipSpaces(_ chars: [Character], _ index: inout Int) {
        while index < chars.count, chars[index] == " " || chars[index] == "\t" { index += 1 }
    }
}

extension Character {
    /// Whether the character may appear in a bare TOML key.
    fileprivate var isBareKeyCharacter: Bool {
        guard isASCII else { return false }
        return isLetter || isNumber || self == "_" || self == "-"
    }
}
