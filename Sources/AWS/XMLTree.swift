/// A small strict XML reader for AWS Query API answers: elements, attributes (skipped), text, the five
/// predefined entities and numeric character references. No DTDs, no CDATA sections, no processing instructions
/// other than the leading declaration. Malformed input throws; it is never half-read.
package struct XMLTree: Sendable, Equatable {
    /// The element name without its namespace prefix.
    package var name: String
    /// The child elements, in order.
    package var children: [XMLTree]
    /// The element's own text (character data directly inside it), entities decoded.
    package var text: String

    /// Creates an element.
    package init(name: String, children: [XMLTree] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    package func child(_ name: String) -> XMLTree? {
        children.first { $0.name == name }
    }

    /// The first element named `name` at any depth below this one (depth first, in document order).
    package func descendant(_ name: String) -> XMLTree? {
        for child in children {
            if child.name == name { return child }
            if let found = child.descendant(name) { return found }
        }
        return nil
    }

    /// Parses a whole document.
    /// - Parameter bytes: The UTF-8 text.
    /// - Returns: The root element.
    /// - Throws: ``XMLSyntaxError`` naming the byte offset and the problem.
    package static func parse(_ bytes: [UInt8]) throws(XMLSyntaxError) -> XMLTree {
        var parser = XMLParser(bytes: bytes)
        return try parser.document()
    }
}

/// Why an XML document could not be read.
package struct XMLSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset where the problem was seen.
    package var offset: Int
    /// What is wrong.
    package var reason: String

    package var description: String { "malformed XML at byte \(offset): \(reason)" }
}

private struct XMLParser {
    let bytes: [UInt8]
    var index = 0
    static let maxDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ reason: String) -> XMLSyntaxError { XMLSyntaxError(offset: index, reason: reason) }

    mutating func document() throws(XMLSyntaxError) -> XMLTree {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        skipSpace()
        if starts("<?xml") {
            guard let end = find("?>") else { throw error("unterminated XML declaration") }
            index = end + 2
        }
        skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw error("expected the root element") }
        let root = try element(depth: 0)
        skipMisc()
        guard index == bytes.count else { throw error("content after the root element") }
        return root
    }

    mutating func element(depth: Int) throws(XMLSyntaxError) -> XMLTree {
        guard depth < Self.maxDepth else { throw error("elements nested deeper than \(Self.maxDepth)") }
        index += 1 // "<"
        let qualified = try name()
        try skipAttributes()
        var result = XMLTree(name: Self.local(qualified))
        if starts("/>") {
            index += 2
            return result
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
            throw error("expected > after <\(qualified)")
        }
        index += 1
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated element <\(qualified)>") }
            if starts("</") {
                index += 2
                let closing = try name()
                guard closing == qualified else { throw error("</\(closing)> closes <\(qualified)>") }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                    throw error("expected > after </\(closing)")
                }
                index += 1
                result.text = String(decoding: text, as: UTF8.self)
                return result
            } else if starts("<!--") {
                guard let end = find("-->") else { throw error("unterminated comment") }
                index = end + 3
            } else if starts("<!") || starts("<?") {
                throw error("unsupported markup (DTD, CDATA or processing instruction)")
            } else if bytes[index] == UInt8(ascii: "<") {
                result.children.append(try element(depth: depth + 1))
            } else if bytes[index] == UInt8(ascii: "&") {
                text += try entity()
            } else {
                text.append(bytes[index])
                index += 1
            }
        }
    }

    mutating func name() throws(XMLSyntaxError) -> String {
        let start = index
        while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
        guard index > start else { throw error("expected a name") }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func skipAttributes() throws(XMLSyntaxError) {
        while true {
            skipSpace()
            guard index < bytes.count else { throw error("unterminated tag") }
            if bytes[index] == UInt8(ascii: ">") || starts("/>") { return }
            _ = try name()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw error("expected = in an attribute")
            }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw error("expected a quoted attribute value")
            }
            let quote = bytes[index]
            index += 1
            while index < bytes.count, bytes[index] != quote {
                guard bytes[index] != UInt8(ascii: "<") else { throw error("< in an attribute value") }
                index += 1
            }
            guard index < bytes.count else { throw error("unterminated attribute value") }
            index += 1
        }
    }

    mutating func entity() throws(XMLSyntaxError) -> [UInt8] {
        guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ";")), end - index <= 12 else {
            throw error("unterminated entity reference")
        }
        let body = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
        let decoded: String
        switch body {
        case "amp": decoded = "&"
        case "lt": decoded = "<"
        case "gt": decoded = ">"
        case "quot": decoded = "\""
        case "apos": decoded = "'"
        default:
            let value: UInt32? =
                body.hasPrefix("#x")
                ? UInt32(body.dropFirst(2), radix: 16)
                : body.hasPrefix("#") ? UInt32(body.dropFirst(), radix: 10) : nil
            guard let value, let scalar = Unicode.Scalar(value) else { throw error("unknown entity &\(body);") }
            decoded = String(Character(scalar))
        }
        index = end + 1
        return Array(decoded.utf8)
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func skipMisc() {
        while true {
            skipSpace()
            guard starts("<!--"), let end = find("-->") else { return }
            index = end + 3
        }
    }

    func starts(_ literal: String) -> Bool {
        let literal = Array(literal.utf8)
        return index + literal.count <= bytes.count && Array(bytes[index..<(index + literal.count)]) == literal
    }

    func find(_ literal: String) -> Int? {
        let literal = Array(literal.utf8)
        var at = index
        while at + literal.count <= bytes.count {
            if Array(bytes[at..<(at + literal.count)]) == literal { return at }
            at += 1
        }
        return nil
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"), 0x80...0xFF:
            true
        default: false
        }
    }

    static func local(_ qualified: String) -> String {
        guard let colon = qualified.lastIndex(of: ":") else { return qualified }
        return String(qualified[qualified.index(after: colon)...])
    }
}
