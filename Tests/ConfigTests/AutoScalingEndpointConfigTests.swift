import Events
import Lifecycle
import Testing

@testable import Config

/// The Auto Scaling endpoint carries signed requests and the session token: plain http only to loopback, and never
/// printed with its credentials or query values.
@Suite("[asg] endpoint")
struct AutoScalingEndpointConfigTests {
    @Test func plainHTTPToAHostThatIsNotLoopbackIsRefusedNamingTheKey() throws {
        let issue = try onlyIssue("[asg]\ntermination_hook = \"drain\"\nendpoint = \"http://10.0.0.7:8080/asg/\"\n")
        #expect(issue.key == "asg.endpoint" && issue.line == 3)
        #expect(issue.message.contains("clear text") && issue.message.contains("https://"))
        for allowed in [
            "http://127.0.0.1:8080/autoscaling/", "http://localhost/", "http://[::1]:80/", "https://10.0.0.7/",
        ] {
            let file = try ConfigFile.parse("[asg]\nendpoint = \"\(allowed)\"\n", path: "f")
            #expect(file.settings.asg.endpoint == allowed)
        }
    }

    @Test func theEndpointVariablesAreCheckedWhenTheyWouldBeUsed() throws {
        let file = try ConfigFile.parse("[asg]\ntermination_hook = \"drain\"\n", path: "f")
        for variable in ["AWS_ENDPOINT_URL_AUTO_SCALING", "AWS_ENDPOINT_URL"] {
            do {
                _ = try Settings.resolve(
                    file: file, environment: [variable: "http://user:pw@asg.internal/?token=s3cret"],
                    overrides: Overrides())
                Issue.record("expected \(variable) to be refused")
            } catch {
                let issue = try #require(error.issues.first)
                #expect(error.issues.count == 1 && issue.key == variable)
                #expect(!issue.description.contains("pw") && !issue.description.contains("s3cret"))
            }
        }
        // Not used (no lifecycle hook, or [asg] endpoint wins): not checked.
        _ = try Settings.resolve(
            file: nil, environment: ["AWS_ENDPOINT_URL": "http://asg.internal/"], overrides: Overrides())
        let configured = try ConfigFile.parse(
            "[asg]\ntermination_hook = \"drain\"\nendpoint = \"https://asg.internal/\"\n", path: "f")
        _ = try Settings.resolve(
            file: configured, environment: ["AWS_ENDPOINT_URL": "http://asg.internal/"], overrides: Overrides())
    }

    @Test func configErrorsNeverShowTheURLsCredentialsOrQueryValues() throws {
        let issue = try onlyIssue("[asg]\nendpoint = \"ftp://user:hunter2@x/?token=s3cret\"\n")
        #expect(issue.key == "asg.endpoint")
        #expect(!issue.message.contains("hunter2") && !issue.message.contains("s3cret"))
        #expect(issue.message.contains("***@x"))
    }
}
