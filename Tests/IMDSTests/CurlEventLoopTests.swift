import Foundation
import HTTP
import IMDS
import IMDSWatchTestKit
import Retry
import Simulator
import Testing

/// The transport's event loop against the simulator: one thread, concurrent transfers, cancellation, its clock, and
/// the poll path staying on that thread when the loop is the task's executor.
@Suite struct CurlEventLoopTests {
    private func client(_ simulator: IMDSSimulator, transport: CurlTransport, timeout: Duration = .seconds(10))
        -> IMDSClient<EventLoopClock>
    {
        IMDSClient(
            endpoint: try! IMDSEndpoint(url: simulator.baseURL),
            transport: transport,
            configuration: .init(
                connectTimeout: .seconds(1), totalTimeout: timeout,
                retry: RetryPolicy(maxAttempts: 1)),
            clock: transport.eventLoop.clock
        )
    }

    @Test func pollsOnTheLoopNeverLeaveItsThread() async throws {
        try await withSimulator { simulator in
            let transport = CurlTransport(name: "loop-test-a")
            let client = client(simulator, transport: transport)
            let threads = try await withTaskExecutorPreference(transport.eventLoop) {
                var seen: [String] = [currentThreadName()]
                for _ in 0..<3 {
                    #expect(try await client.text("meta-data/instance-id") == "i-0123456789abcdef0")
                    seen.append(currentThreadName())
                    try await client.clock.sleep(for: .milliseconds(5))
                    seen.append(currentThreadName())
                }
                return seen
            }
            #expect(threads == Array(repeating: "loop-test-a", count: 7), "every step ran on the loop's own thread")
        }
    }

    @Test func aHangingTransferDoesNotDelayAnother() async throws {
        try await withSimulator { simulator in
            let transport = CurlTransport()
            let client = client(simulator, transport: transport, timeout: .seconds(10))
            _ = try await client.text("meta-data/instance-id") // the token, so both reads below are plain GETs
            let hungPath = "meta-data/events/maintenance/scheduled"
            simulator.inject(.hang(on: "/latest/" + hungPath))
            let hungFinished = Locked(false)
            async let hung: IMDSError? = {
                defer { hungFinished.update { $0 = true } }
                do throws(IMDSError) {
                    _ = try await client.text(hungPath)
                    return nil
                } catch {
                    return error
                }
            }()
            // Ordering, not wall time (a loaded machine stretches both): the hung request is at the server first.
            while simulator.statistics.requestsByPath[hungPath, default: 0] == 0 {
                try await Task.sleep(for: .milliseconds(5))
            }
            let spot = try await client.text("meta-data/spot/instance-action")
            #expect(spot == nil)
            #expect(!hungFinished.value, "spot answered only after the hung request ended (its 10 s timeout)")
            let error = await hung
            #expect(error?.code == .timedOut, "\(String(describing: error))")
        }
    }

    @Test func cancellingTheTaskAbortsItsTransferAtOnce() async throws {
        try await withSimulator { simulator in
            let transport = CurlTransport()
            simulator.inject(.hang(on: "/latest/api/token"))
            let request = HTTPRequest(
                method: .put, url: simulator.baseURL + "/latest/api/token",
                headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")],
                totalTimeout: .seconds(30))
            let task = Task { try await transport.send(request) }
            #expect(await eventually { simulator.statistics.tokenRequests == 1 }, "the request reached the simulator")
            task.cancel()
            let result = await task.result
            guard case .failure(let error) = result else {
                Issue.record("a hung request returned a response")
                return
            }
            // Cancelled, not ended by the 30 s timeout (that would be `.timedOut`).
            #expect((error as? HTTPError)?.code == .cancelled, "\(error)")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func everyRequestAndSleepEndsOnceWhateverTheCancellationTiming() async throws {
        try await withSimulator { simulator in
            simulator.inject(.delay(0.02, on: "/latest/api/token"))
            let transport = CurlTransport()
            let clock = transport.eventLoop.clock
            let request = HTTPRequest(
                method: .put, url: simulator.baseURL + "/latest/api/token",
                headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")])
            // Cancellation lands before the start, during the transfer or the sleep, or after the end.
            let outcomes = await withTaskGroup(of: String.self) { group in
                for index in 0..<200 {
                    let task = Task { () -> String in
                        if index % 2 == 0 {
                            do throws(HTTPError) {
                                let response = try await transport.send(request)
                                return response.status == 200 ? "response" : "status \(response.status)"
                            } catch {
                                return error.code == .cancelled ? "cancelled" : "error \(error)"
                            }
                        }
                        do {
                            // Every tenth sleep is long, so that some cancellations land during a sleep however
                            // late a loaded machine runs the cancelling task.
                            try await clock.sleep(for: index % 10 == 1 ? .seconds(60) : .milliseconds(20))
                            return "slept"
                        } catch {
                            return "cancelled"
                        }
                    }
                    group.addTask {
                        try? await Task.sleep(for: .microseconds((index * 397) % 40_000))
                        task.cancel()
                        return await task.value
                    }
                }
                var outcomes: [String] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.count == 200)
            let unexpected = outcomes.filter { !["response", "cancelled", "slept"].contains($0) }
            #expect(unexpected.isEmpty, "\(unexpected)")
            #expect(outcomes.contains("cancelled"))
            #expect(outcomes.contains("response") || outcomes.contains("slept"))
            // The loop is still sound afterwards.
            let after = try await transport.send(request)
            #expect(after.status == 200)
        }
    }

    @Test func clockSleepsUntilTheDeadlineAndStopsWhenCancelled() async throws {
        let transport = CurlTransport()
        let loopClock = transport.eventLoop.clock
        let clock = ContinuousClock()
        let started = clock.now
        try await loopClock.sleep(for: .milliseconds(50))
        #expect(started.duration(to: clock.now) >= .milliseconds(50))

        let sleeper = Task { try await loopClock.sleep(for: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(50))
        sleeper.cancel()
        let result = await sleeper.result
        // Ended by the cancellation: a 30 s sleep that ran its course would return normally.
        #expect(throws: CancellationError.self) { try result.get() }
    }

    @Test func onlyTheResponseHeadersAskedForAreKept() async throws {
        try await withSimulator { simulator in
            let transport = CurlTransport()
            func put(keeping names: [String]?) async throws -> [HTTPHeader] {
                try await transport.send(
                    HTTPRequest(
                        method: .put, url: simulator.baseURL + "/latest/api/token",
                        headers: [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")], responseHeaders: names
                    )
                ).headers
            }
            let all = try await put(keeping: nil)
            #expect(all.count > 2, "\(all)")
            let kept = try await put(keeping: ["x-AWS-ec2-metadata-token-TTL-seconds"])
            #expect(kept == [HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "60")])
            #expect(try await put(keeping: []).isEmpty)
            #expect(try await put(keeping: nil).count == all.count, "the same handle keeps all headers again")
        }
    }

    @Test func theThreadEndsWhenTheTransportIsReleased() async throws {
        try await withSimulator { simulator in
            var transport: CurlTransport? = CurlTransport(name: "loop-test-gone")
            let response = try await transport!.send(HTTPRequest(method: .get, url: simulator.baseURL + "/latest/"))
            #expect(response.status == 401 || response.status == 200)
            #expect(threadNames().contains("loop-test-gone"))
            transport = nil
            #expect(
                await eventually { !threadNames().contains("loop-test-gone") },
                "the loop's thread outlived its transport")
        }
    }
}

private func currentThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?")
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

private func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { task in
        (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
