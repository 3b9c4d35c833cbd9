import Testing

@testable import Config

@Suite("Errors name the key and the line")
struct ConfigFileErrorTests {
    @Test func badChoiceNamesKeyAndLine() throws {
        let issue = try onlyIssue(
            """
            # webhooks
            [[webhook]]
            url = "https://a.example"

            [[webhook]]
            url = "https://b.example"
            format = "xml"
            """)
        #expect(issue.line == 7)
        #expect(issue.key == "webhook[1].format")
        #expect(
            issue.description
                == #"imdswatch.toml:7: webhook[1].format: expected one of json, cloudevents, slack, template, got "xml""#
        )
    }

    @Test func unknownKeySuggestsTheClosest() throws {
        let issue = try onlyIssue("interval = 2\nhook_dir = \"/x\"\n")
        #expect(issue.line == 2)
        #expect(issue.key == "hook_dir")
        #expect(issue.message == #"unknown key; did you mean "hooks_dir"?"#)
    }

    @Test func unknownKeyInANestedTable() throws {
        let issue = try onlyIssue("[log]\nlevel = \"info\"\n\n[sources.spot]\nenabled = true\nintervall = 3\n")
        #expect(issue.key == "sources.spot.intervall")
        #expect(issue.line == 6)
    }

    @Test func unknownTableIsNamedAtItsHeader() throws {
        let issue = try onlyIssue("dry_run = true\n\n[source.spot]\nenabled = false\n")
        #expect(issue.key == "source")
        #expect(issue.line == 3)
    }

    @Test func unknownSourceIsAnError() throws {
        let issue = try onlyIssue("[sources.spott]\nenabled = false\n")
        #expect(issue.key == "sources.spott")
        #expect(issue.line == 1)
    }

    @Test func wrongTypeNamesKeyAndLine() throws {
        let issue = try onlyIssue("\n\ndry_run = \"yes\"\n")
        #expect(issue.line == 3)
        #expect(issue.key == "dry_run")
        #expect(issue.message == #"expected true or false, got string "yes""#)
    }

    @Test func outOfRangeValues() {
        let found = issues(
            """
            interval = 0.01
            token_ttl = 0
            max_concurrent_events = 1000
            hook_timeout = -1
            imds_timeout = "2 fortnights"
            """)
        #expect(found.map(\.key) == ["interval", "token_ttl", "max_concurrent_events", "hook_timeout", "imds_timeout"])
        #expect(found.map(\.line) == [1, 2, 3, 4, 5])
        #expect(found[0].message == "must be at least 0.05 s, got 0.01 s")
        #expect(found[1].message == "must be between 1 and 21600, got 0")
    }

    @Test func unknownEventTypeNamesTheElement() throws {
        let issue = try onlyIssue(
            """
            [[webhook]]
            url = "https://a.example"
            events = [
              "spot-interruption",
              "spot",
            ]
            """)
        #expect(issue.key == "webhook[0].events[1]")
        #expect(issue.line == 3)
        #expect(issue.message.hasPrefix(#"unknown event type "spot"; expected one of spot-interruption"#))
    }

    @Test func badURLs() {
        let found = issues(
            """
            endpoint = "http://169.254.169.254/latest/meta-data"
            [[webhook]]
            url = "ftp://files.example/x"
            [[webhook]]
            url = "https://ok.example"
            proxy = "gopher://p"
            [[webhook]]
            url = "https://host:99999/"
            """)
        #expect(found.map(\.key) == ["endpoint", "webhook[0].url", "webhook[1].proxy", "webhook[2].url"])
        #expect(found.map(\.line) == [1, 3, 6, 8])
        #expect(found[1].message == #"expected an http:// or https:// URL, got "ftp://files.example/x""#)
    }

    @Test func templateNeedsTemplateFile() throws {
        let issue = try onlyIssue("[[webhook]]\nurl = \"https://a.example\"\nformat = \"template\"\n")
        #expect(issue.key == "webhook[0].template_file")
        #expect(issue.line == 1)
        #expect(issue.message == #"required when format is "template""#)
    }

    @Test func webhookNeedsURL() throws {
        let issue = try onlyIssue("dry_run = true\n[[webhook]]\nformat = \"json\"\n")
        #expect(issue.key == "webhook[0].url")
        #expect(issue.line == 2)
    }

    @Test func relativePathsAndBadHeadersAreRefused() {
        let found = issues(
            """
            hooks_dir = "hooks.d"
            [webhook_defaults]
            headers = { "Content-Type" = "text/plain", "Bad Name" = "x" }
            """)
        #expect(found.count == 3)
        #expect(found[0].key == "hooks_dir" && found[0].line == 1)
        #expect(found.dropFirst().allSatisfy { $0.line == 3 && $0.key.hasPrefix("webhook_defaults.headers.") })
    }

    @Test func syntaxErrorReportsParserLineAndColumn() throws {
        let issue = try onlyIssue("interval = 2\n\nhooks_dir = \"/x\n")
        #expect(issue.line == 3)
        #expect(issue.column != nil)
        #expect(issue.key.isEmpty)
        #expect(issue.description.hasPrefix("imdswatch.toml:3:"))
        #expect(issue.message.hasPrefix("TOML syntax error"))
    }

    @Test func collectsEveryError() {
        let found = issues(
            """
            intervl = 2
            [log]
            level = "verbose"
            target = 3
            [[webhook]]
            url = "https://a.example"
            format = "xml"
            events = ["nope"]
            """)
        #expect(
            found.map(\.key) == ["intervl", "log.level", "log.target", "webhook[0].format", "webhook[0].events[0]"])
        #expect(found.map(\.line) == [1, 3, 4, 7, 8])
    }

    @Test func dottedKeysAndSubtablesFindTheirLines() {
        let found = issues(
            """
            log.level = "loud"
            [[webhook]]
            url = "https://a.example"
            [webhook.headers]
            "X-Ok" = "fine"
            X-Imdswatch-Event = "forged"
            [[webhook]]
            url = "https://b.example"
            timeout = 0
            """)
        #expect(found.map(\.key) == ["log.level", "webhook[0].headers.X-Imdswatch-Event", "webhook[1].timeout"])
        #expect(found.map(\.line) == [1, 6, 9])
    }

    @Test func keysInStringsAreNotMistakenForKeys() {
        let map = SourceMap(
            text: """
                [log]
                level = \"\"\"
                target = "x"
                \"\"\"
                target = "stderr" # [not.a.table]
                """)
        #expect(map.line(for: "log.target") == 5)
        #expect(map.line(for: "log.level") == 2)
        #expect(map.line(for: "not") == nil)
    }
}
