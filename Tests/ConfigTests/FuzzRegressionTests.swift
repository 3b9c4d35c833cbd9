import Events
import Testing

@testable import Config

/// Inputs found by the fuzz targets in `Fuzz/` (see docs/fuzzing.md); each once crashed the process.
@Suite("Fuzz regressions: config file")
struct ConfigFuzzRegressionTests {
    /// fuzz-config: toml++ 3.4.0 (under TOMLKit) asserts, aborting the process, when a table header does not start
    /// with a key. The first input is the minimized crash (`[` then the byte 0xF5, read as U+FFFD).
    @Test(arguments: [
        ("[\u{FFFD}", 1, 2),
        ("[é]\n", 1, 2),
        ("[=]\n", 1, 2),
        ("[#]\n", 1, 2),
        ("[ .a]\n", 1, 3),
        ("[\t=]\n", 1, 3),
        ("[[é]]\n", 1, 3),
        ("[[ #]]\n", 1, 4),
        ("\u{FEFF}[=]\n", 1, 3),
        ("interval = 2\n[\n", 2, 2),
        ("interval = 2\n  [\r\n", 2, 4),
        ("[log]\nlevel = \"info\"\n[\u{1}ces.maintenance]\n", 3, 2),
    ])
    func tableHeadersWithoutAKeyAreSyntaxErrors(text: String, line: Int, column: Int) throws {
        try expectSyntaxError(text, line: line, column: column)
    }

    /// One issue, a TOML syntax error at `line`:`column`, naming no key.
    private func expectSyntaxError(_ text: String, line: Int, column: Int) throws {
        let issue = try onlyIssue(text)
        #expect(issue.line == line)
        #expect(issue.column == column)
        #expect(issue.key == "")
        #expect(issue.message.hasPrefix("TOML syntax error: "))
    }

    /// The guard lets every ordinary header through to toml++.
    @Test func ordinaryHeadersStillParse() throws {
        let file = try ConfigFile.parse(
            """
            [log]
            level = "debug"
              [ sources.spot ]
            enabled = false
            ["sources".'asg']
            enabled = true
            [[webhook]]
            url = "https://hooks.example.com/x"
            [[ webhook ]]
            url = "https://hooks.example.com/y"
            """, path: "imdswatch.toml")
        #expect(file.sources[.spot]?.enabled == false)
        #expect(file.sources[.asg]?.enabled == true)
        #expect(file.settings.webhooks.count == 2)
    }

    /// fuzz-config: toml++ asserts when a `}` stands where an array expects a value. The first input is the fuzzer's
    /// (nested arrays, then `}`); `a = [}` is the smallest.
    @Test(arguments: [
        ("interralvval =[[[[[[[[[[[[[[[[[[[[[}", 1, 36),
        ("a = [}\n", 1, 6),
        ("a = [1, }\n", 1, 9),
        ("interval = 2\na = [\n  # a comment }\n}\n", 4, 1),
        ("a = { b = [}] }\n", 1, 12),
        ("a = [{}, }\n", 1, 10),
        ("a = [\"]\", }\n", 1, 11),
    ])
    func aBraceWhereAnArrayExpectsAValueIsASyntaxError(text: String, line: Int, column: Int) throws {
        try expectSyntaxError(text, line: line, column: column)
    }

    /// Braces in strings, comments and inline tables (inside arrays too) are valid TOML and pass the guard.
    @Test(arguments: [
        "a = [{ b = 1 }, { c = [2, { d = 3 }] }]\n",
        "a = [\"}\", '}', \"\"\"\n}\n\"\"\", '''}'''] # }\n",
        "a = [ # }\n  1,\n]\nb = { c = \"\\\"}\" }\n",
        "[t]\nx = \"a\\\\\"\ny = [1]\n",
    ])
    func bracesInValidTOMLPass(text: String) {
        #expect(TOMLGuard.braceClosingArray(in: text) == nil)
    }

    @Test func theShippedExampleStillParses() throws {
        _ = try ConfigFile.load(path: repositoryRoot + "/docs/imdswatch.toml.example")
    }
}
