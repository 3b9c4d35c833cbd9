/// Helpers shared by the fuzz targets.

/// The fuzzer's bytes as a `String`, invalid UTF-8 repaired as the HTTP layer does (`String(decoding:as:)`).
public func fuzzString(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}

/// Stops the run with a message when an invariant of a decoder does not hold (libFuzzer saves the input).
public func invariant(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() {
        fatalError("invariant violated: \(message())", file: file, line: line)
    }
}

/// True when `text` is RFC 3339 UTC with whole seconds, `YYYY-MM-DDTHH:MM:SSZ`, the form every decoder emits.
public func isNormalizedDate(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 20 else { return false }
    for (index, byte) in bytes.enumerated() {
        switch index {
        case 4, 7: if byte != UInt8(ascii: "-") { return false }
        case 10: if byte != UInt8(ascii: "T") { return false }
        case 13, 16: if byte != UInt8(ascii: ":") { return false }
        case 19: if byte != UInt8(ascii: "Z") { return false }
        default: if byte < 0x30 || byte > 0x39 { return false }
        }
    }
    return true
}

/// The value of a decode that must succeed (re-decoding a decoder's own output); stops the run when it throws.
public func mustDecode<T>(_ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch {
        fatalError("invariant violated: \(what()) does not decode again: \(error)", file: file, line: line)
    }
}
