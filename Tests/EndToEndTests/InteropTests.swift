import Events
import Foundation
import IMDSWatchTestKit
import Simulator
import Testing

/// Independent IMDSv2 clients (Python's ec2-metadata and botocore) read the simulator and agree with it.
@Suite struct InteropTests {
    /// The Python with ec2-metadata and botocore installed: `$TEST_PYTHON_IMDS_CLIENTS` (scripts/test sets it up).
    static var python: String {
        ProcessInfo.processInfo.environment["TEST_PYTHON_IMDS_CLIENTS"] ?? "/usr/bin/python3"
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop/imds_clients.py").path
    }

    @Test func pythonClientsReadIdentityTagsAndSpotNotice() async throws {
        var state = SimulatorState()
        state.tags = [InstanceTag("Name", "web-1"), InstanceTag("aws:autoscaling:groupName", "asg-ü")]
        state.spot = SpotNotice(action: .terminate, time: Date(timeIntervalSince1970: 1_795_953_600))
        try await withSimulator(state: state) { simulator in
            let outcome = try await ProcessRunner.run(
                Self.python, [Self.script, simulator.baseURL], timeout: .seconds(60))
            #expect(outcome.status == 0, "python failed: \(outcome.stderr)")
            let result = try JSONDocument.parse(outcome.stdout)
            for client in ["ec2_metadata", "botocore"] {
                let seen = result[client]
                #expect(seen?["instance_id"] == "i-0123456789abcdef0", "\(client)")
                #expect(seen?["region"] == "eu-west-1", "\(client)")
                #expect(seen?["tags"]?["Name"] == "web-1", "\(client)")
                #expect(seen?["tags"]?["aws:autoscaling:groupName"] == "asg-ü", "\(client)")
                #expect(seen?["spot"]?["action"] == "terminate", "\(client)")
                #expect(seen?["spot"]?["time"] == "2026-11-29T12:00:00Z", "\(client)")
            }
            #expect(simulator.statistics.responsesByStatus["401"] == nil, "both clients used IMDSv2 tokens correctly")
        }
    }
}
