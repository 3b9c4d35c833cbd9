import IMDSWatchTestKit
import Testing

@Suite struct GetCommandTests {
    @Test func closedPortFailsFastNamingTheEndpoint() throws {
        let outcome = try ProcessRunner.imdswatch(["get", "meta-data/instance-id", "--endpoint", "http://127.0.0.1:9"])
        #expect(outcome.status != 0)
        #expect(outcome.elapsed < .seconds(3))
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(outcome.stderr)")
        #expect(outcome.stderr.contains("http://127.0.0.1:9"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func disabledByEnvironmentIsOneLine() throws {
        let outcome = try ProcessRunner.imdswatch(
            ["get", "meta-data/instance-id", "--endpoint", "http://127.0.0.1:9"],
            environment: ["AWS_EC2_METADATA_DISABLED": "true"]
        )
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("AWS_EC2_METADATA_DISABLED"))
    }

    @Test func invalidEndpointIsNamed() throws {
        let outcome = try ProcessRunner.imdswatch(["get", "meta-data/instance-id", "--endpoint", "ftp//nowhere"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("ftp//nowhere"))
    }
}
