import TOMLKit

/// Typed reads of single keys; each records a problem and returns `nil` when the value is missing or wrong.
extension ConfigFileDecoder {
    /// A description of a TOML value for messages: `integer 5`, `string "x"`, `a table`.
    static func describe(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "string " + Validation.quoted(value.string ?? "")
        case .int: "integer \(value.int ?? 0)"
        case .double: "floating-point number \(value.double ?? 0)"
        case .bool: "boolean \(value.bool ?? false)"
        case .table: "a table"
        case .array: "an array"
        default: "a \(value.type)"
        }
    }

    mutating func string(_ table: TOMLTable, _ key: String, at parent: String) -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else {
            fail(keyPath(parent, key), "expected a string, got \(Self.describe(value))")
            return nil
        }
        return string
    }

    mutating func bool(_ table: TOMLTable, _ key: String, at parent: String) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let bool = value.bool else {
            fail(keyPath(parent, key), "expected true or false, got \(Self.describe(value))")
            return nil
        }
        return bool
    }

    mutating func integer(_ table: TOMLTable, _ key: String, at parent: String, range: ClosedRange<Int>) -> Int? {
        guard let value = table[key] else { return nil }
        guard let integer = value.int else {
            fail(keyPath(parent, key), "expected an integer, got \(Self.describe(value))")
            return nil
        }
        guard range.contains(integer) else {
            fail(keyPath(parent, key), "must be between \(range.lowerBound) and \(range.upperBound), got \(integer)")
            return nil
        }
        return integer
    }

    /// A duration: seconds as a number, or a string such as `"500ms"`, `"90s"`, `"5m"`, `"1h"`.
    mutating func duration(
        _ table: TOMLTable, _ key: String, at parent: String,
        minimum: Duration = .zero, exclusive: Bool = true, maximum: Duration = Validation.longestDuration
    ) -> Duration? {
        guard let value = table[key] else { return nil }
        let parsed: Duration?
        switch value.type {
        case .int: parsed = value.int.flatMap { Validation.seconds(Double($0)) }
        case .double: parsed = value.double.flatMap(Validation.seconds)
        case .string: parsed = value.string.flatMap(Validation.parseDuration)
        default: parsed = nil
        }
        guard let parsed else {
            fail(
                keyPath(parent, key),
                "expected seconds (a number) or a duration such as \"90s\", \"5m\", \"1h\", got \(Self.describe(value))"
            )
            return nil
        }
        if let problem = Validation.durationProblem(parsed, minimum: minimum, exclusive: exclusive, maximum: maximum) {
            fail(keyPath(parent, key), problem)
            return nil
        }
        return parsed
    }

    mutating func absolutePath(_ table: TOMLTable, _ key: String, at parent: String) -> String? {
        guard let path = string(table, key, at: parent) else { return nil }
        if let problem = Validation.absolutePathProblem(path) {
            fail(keyPath(parent, key), problem)
            return nil
        }
        return path
    }

    /// One of the raw values of `type`.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(
        _ table: TOMLTable, _ key: String, at parent: String, of type: Choice.Type
    ) -> Choice? where Choice.RawValue == String {
        guard let value = table[key] else { return nil }
        let names = Choice.allCases.map(\.rawValue).joined(separator: ", ")
        guard let string = value.string, let choice = Choice(rawValue: string) else {
            let got = value.string.map(Validation.quoted) ?? Self.describe(value)
            fail(keyPath(parent, key), "expected one of \(names), got \(got)")
            return nil
        }
        return choice
    }

    mutating func table(_ table: TOMLTable, _ key: String, at parent: String) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let result = value.table else {
            fail(keyPath(parent, key), "expected a table, got \(Self.describe(value))")
            return nil
        }
        return result
    }

    /// An array of strings; a wrong element is reported as `key[index]`.
    mutating func stringArray(_ table: TOMLTable, _ key: String, at parent: String) -> [(index: Int, value: String)]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else {
            fail(keyPath(parent, key), "expected an array of strings, got \(Self.describe(value))")
            return nil
        }
        var result: [(index: Int, value: String)] = []
        for (index, element) in array.enumerated() {
            guard let string = element.string else {
                fail(keyPath(parent, key) + "[\(index)]", "expected a string, got \(Self.describe(element))")
                continue
            }
            result.append((index, string))
        }
        return result
    }

    /// A table of strings, such as `headers = { "X-Team" = "ops" }`.
    mutating func stringTable(_ table: TOMLTable, _ key: String, at parent: String) -> [(key: String, value: String)]? {
        guard let inner = self.table(table, key, at: parent) else { return nil }
        var result: [(key: String, value: String)] = []
        for name in inner.keys {
            guard let value = inner[name] else { continue }
            guard let string = value.string else {
                fail(keyPath(keyPath(parent, key), name), "expected a string, got \(Self.describe(value))")
                continue
            }
            result.append((name, string))
        }
        return result
    }
}
