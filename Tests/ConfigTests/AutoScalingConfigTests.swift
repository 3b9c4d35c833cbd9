import Events
import Lifecycle
import Testing

@testable import Config

@Suite("[asg] table")
struct AutoScalingConfigTests {
    @Test func readsEveryKey() throws {
        let file = try ConfigFile.parse(
            """
            [asg]
            termination_hook = "drain"
            launch_hook = "warm-up"
            group = "web-asg"
            heartbeat_interval = "30s"
            on_hook_failure = "abandon"
            endpoint = "http://127.0.0.1:8080/autoscaling/"
            """, path: "imdswatch.toml")
        let asg = try Settings.resolve(file: file, environment: [:], overrides: Overrides()).asg
        #expect(
            asg
                == AutoScalingSettings(
                    terminationHook: "drain", launchHook: "warm-up", group: "web-asg", heartbeatInterval: .seconds(30),
                    onHookFailure: .abandon, endpoint: "http://127.0.0.1:8080/autoscaling/"
                ))
        #expect(asg.hook(forState: "Terminated") == "drain")
        #expect(asg.hook(forState: "Warmed:Stopped") == "warm-up")
        #expect(asg.hook(forState: "InService") == "warm-up")
        #expect(asg.hook(forState: "Pending") == nil)
        #expect(asg.hook(forState: "Warmed:Terminated") == "drain")
    }

    @Test func defaultsAndFlags() throws {
        let defaults = try Settings.resolve(file: nil, environment: [:], overrides: Overrides()).asg
        #expect(
            !defaults.isEnabled && defaults.heartbeatInterval == .seconds(60) && defaults.onHookFailure == .continue)
        let flagged = try Settings.resolve(
            file: try ConfigFile.parse("[asg]\ntermination_hook = \"file\"\nheartbeat_interval = 0\n", path: "f"),
            environment: [:], overrides: Overrides(asgTerminationHook: "flag", asgLaunchHook: "launch")
        ).asg
        #expect(
            flagged.terminationHook == "flag" && flagged.launchHook == "launch" && flagged.heartbeatInterval == .zero)
    }

    @Test func errorsNameKeyAndLine() throws {
        let badChoice = try onlyIssue("\n[asg]\non_hook_failure = \"retry\"\n")
        #expect(badChoice.key == "asg.on_hook_failure" && badChoice.line == 3)
        #expect(badChoice.message.contains("continue, abandon"))
        let unknown = try onlyIssue("[asg]\nheartbeat = 5\n")
        #expect(unknown.key == "asg.heartbeat" && unknown.line == 2)
        let badURL = try onlyIssue("[asg]\n\nendpoint = \"ftp://x\"\n")
        #expect(badURL.key == "asg.endpoint" && badURL.line == 3)
        let badName = try onlyIssue("[asg]\ntermination_hook = \"\"\n")
        #expect(badName.key == "asg.termination_hook" && badName.line == 2)
        let negative = try onlyIssue("[asg]\nheartbeat_interval = -1\n")
        #expect(negative.key == "asg.heartbeat_interval")
        #expect(throws: ConfigError.self) {
            try Settings.resolve(file: nil, environment: [:], overrides: Overrides(asgLaunchHook: ""))
        }
    }
}
