import Foundation
import IMDSWatchTestKit
import Testing

/// The default endpoints, tested only inside a network namespace the test creates, so that no packet leaves it:
/// 169.254.169.254 and fd00:ec2::254 live on the namespace's own loopback, where the simulator listens.
@Suite(.serialized) struct NetworkNamespaceTests {
    /// Creates a namespace with the IMDS addresses on its loopback; fails the test (never skips) when it cannot.
    private func makeNamespace() throws -> String {
        let name = "imdswatch-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let steps: [[String]] = [
            ["netns", "add", name],
            ["-n", name, "link", "set", "lo", "up"],
            ["-n", name, "addr", "add", "169.254.169.254/32", "dev", "lo"],
            ["-n", name, "-6", "addr", "add", "fd00:ec2::254/128", "dev", "lo", "nodad"],
        ]
        for step in steps {
            let outcome = try ProcessRunner.runBlocking("/usr/sbin/ip", step)
            guard outcome.status == 0 else {
                _ = try? ProcessRunner.runBlocking("/usr/sbin/ip", ["netns", "del", name])
                throw NamespaceError(message: "ip \(step.joined(separator: " ")) failed: \(outcome.stderr)")
            }
        }
        return name
    }

    struct NamespaceError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    private func inNamespace(_ name: String, _ arguments: [String]) -> [String] {
        ["netns", "exec", name, ProcessRunner.imdswatchPath] + arguments
    }

    private static let awsVariables = [
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_EC2_METADATA_DISABLED",
    ]

    @Test func zeroConfigurationReadsTheIPv4AndIPv6DefaultEndpoints() async throws {
        let namespace = try makeNamespace()
        defer { _ = try? ProcessRunner.runBlocking("/usr/sbin/ip", ["netns", "del", namespace]) }

        let ipv4 = try BackgroundProcess(
            "/usr/sbin/ip", inNamespace(namespace, ["simulate", "--listen", "169.254.169.254:80"]))
        let ipv6 = try BackgroundProcess(
            "/usr/sbin/ip", inNamespace(namespace, ["simulate", "--listen", "[fd00:ec2::254]:80"]))
        defer {
            ipv4.signal(SIGKILL)
            ipv6.signal(SIGKILL)
        }
        #expect(
            await ipv4.waitForLine { $0.contains("listening on http://169.254.169.254:80") } != nil, "\(ipv4.lines)")
        #expect(
            await ipv6.waitForLine { $0.contains("listening on http://[fd00:ec2::254]:80") } != nil, "\(ipv6.lines)")

        let plain = try await ProcessRunner.run(
            "/usr/sbin/ip", inNamespace(namespace, ["get", "meta-data/instance-id"]),
            removing: Self.awsVariables + ["IMDSWATCH_CONFIG"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == "i-0123456789abcdef0\n")

        let six = try await ProcessRunner.run(
            "/usr/sbin/ip", inNamespace(namespace, ["get", "meta-data/instance-id"]),
            environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"],
            removing: ["AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED"])
        #expect(six.status == 0, "\(six.stderr)")
        #expect(six.stdout == "i-0123456789abcdef0\n")

        #expect(await ipv4.stop() == 0)
        #expect(await ipv6.stop() == 0)
    }
}
