extension String {
    /// This text with every control character (C0 U+0000-U+001F, DEL, C1 U+0080-U+009F) and backslash written as a C escape (`\x00`,
    /// `\n`, `\t`, `\\`): one line, safe for an environment variable or a terminal. Text without them comes back
    /// unchanged.
    package var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: { Self.isControl($0) || $0 == "\\" }) else { return self }
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where Self.isControl(scalar):
                let hex = String(scalar.value, radix: 16)
                result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
