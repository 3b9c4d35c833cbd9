import HTTP
import IMDSWatchTestKit
import Simulator
import Testing

@Suite("IMDSv2 token rules")
struct TokenRuleTests {
    @Test func issuesTokenWithoutTrailingNewlineAndEchoesTTL() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let response = try await client.putToken(ttl: "300")
            #expect(response.status == 200)
            #expect(response.header("X-aws-ec2-metadata-token-ttl-seconds") == "300")
            #expect(!response.bodyText.isEmpty)
            #expect(!response.bodyText.hasSuffix("\n"))
            let other = try await client.putToken(ttl: "300")
            #expect(other.bodyText != response.bodyText)
            #expect(simulator.statistics.tokenRequests == 2)
        }
    }

    @Test(arguments: [nil, "0", "21601", "abc", "-5", ""])
    func rejectsMissingOrOutOfRangeTTL(ttl: String?) async throws {
        try await withSimulator { simulator async throws in
            let response = try await SimulatorClient(simulator).putToken(ttl: ttl)
            #expect(response.status == 400)
        }
    }

    @Test func acceptsTTLBounds() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            #expect(try await client.putToken(ttl: "1").status == 200)
            #expect(try await client.putToken(ttl: "21600").status == 200)
        }
    }

    @Test func rejectsTokenPutCarryingXForwardedFor() async throws {
        try await withSimulator { simulator async throws in
            let response = try await SimulatorClient(simulator).putToken(headers: [
                HTTPHeader("X-Forwarded-For", "10.0.0.9")
            ])
            #expect(response.status == 403)
        }
    }

    @Test func rejectsTokenPutOnVersionedPath() async throws {
        try await withSimulator { simulator async throws in
            let response = try await SimulatorClient(simulator).putToken(path: "/2021-01-03/api/token")
            #expect(response.status == 403)
        }
    }

    @Test func getOnTokenPathIs405() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("api/token", token: token).status == 405)
            #expect(try await client.get("api/token", token: nil).status == 405)
        }
    }

    @Test func getWithoutOrWithUnknownTokenIs401() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let missing = try await client.get("meta-data/instance-id", token: nil)
            #expect(missing.status == 401)
            #expect(missing.bodyText.contains("401 - Unauthorized"))
            #expect(try await client.get("meta-data/instance-id", token: "AQAEAnot-a-real-token").status == 401)
        }
    }

    @Test func getEchoesRemainingTTL() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            // The echoed TTL counts down from the PUT: bound it by the time that really passed between the PUT
            // and the GET's answer, so that a loaded machine cannot fail it.
            let issued = ContinuousClock.now
            let token = try await client.token(ttl: 600)
            let response = try await client.get("meta-data/instance-id", token: token)
            let elapsed = Int((ContinuousClock.now - issued).components.seconds)
            #expect(response.status == 200)
            let remaining = try #require(response.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap(Int.init))
            #expect(((599 - elapsed)...600).contains(remaining), "\(remaining) s left after \(elapsed) s")
        }
    }

    @Test func tokenExpiresAfterItsTTL() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            // Valid until its TTL has passed, counted from before the PUT: on a loaded machine the first GET may
            // itself arrive late, and a token is only owed validity within its TTL.
            let issued = ContinuousClock.now
            let token = try await client.token(ttl: 2)
            // The simulator issued it before its answer arrived: expired for sure 2 s after that.
            let received = ContinuousClock.now
            let first = try await client.get("meta-data/instance-id", token: token).status
            let answeredWithin = ContinuousClock.now - issued
            #expect(first == 200 || answeredWithin >= .seconds(2), "401 after only \(answeredWithin)")
            try await Task.sleep(until: received + .milliseconds(2300))
            #expect(try await client.get("meta-data/instance-id", token: token).status == 401)
        }
    }

    @Test func maxTokenTTLCapsTheGrantedTTL() async throws {
        try await withSimulator(state: SimulatorState(maxTokenTTL: 5)) { simulator async throws in
            let client = SimulatorClient(simulator)
            let issued = ContinuousClock.now
            let response = try await client.putToken(ttl: "21600")
            #expect(response.status == 200)
            #expect(response.header("X-aws-ec2-metadata-token-ttl-seconds") == "5")
            let get = try await client.get("meta-data/instance-id", token: response.bodyText)
            // On a loaded machine the GET may arrive after the capped TTL: then the token has expired (401), which
            // the cap also shows; a token still valid carries what is left of at most 5 s.
            let answeredWithin = ContinuousClock.now - issued
            if get.status == 401 {
                #expect(answeredWithin >= .seconds(5), "401 after only \(answeredWithin)")
            } else {
                #expect(get.status == 200)
                #expect(get.header("X-aws-ec2-metadata-token-ttl-seconds").flatMap(Int.init).map { $0 <= 5 } == true)
            }
        }
    }

    @Test func invalidatedTokensAnswer401() async throws {
        try await withSimulator { simulator async throws in
            let client = SimulatorClient(simulator)
            let token = try await client.token()
            #expect(try await client.get("meta-data/instance-id", token: token).status == 200)
            simulator.invalidateTokens()
            #expect(try await client.get("meta-data/instance-id", token: token).status == 401)
            let fresh = try await client.token()
            #expect(try await client.get("meta-data/instance-id", token: fresh).status == 200)
        }
    }

    @Test func disabledIMDSAnswers403Everywhere() async throws {
        try await withSimulator(state: SimulatorState(imdsDisabled: true)) { simulator async throws in
            let client = SimulatorClient(simulator)
            #expect(try await client.putToken().status == 403)
            #expect(try await client.get("meta-data/instance-id", token: "x").status == 403)
            #expect(try await client.get("meta-data/instance-id", token: nil).status == 403)
        }
    }
}
