import IMDS
import Testing

@Suite struct IMDSEndpointSafetyTests {
    @Test(arguments: [
        ("http://169.254.169.254", true), ("http://[fd00:ec2::254]", true), ("http://127.0.0.1:1338", true),
        ("http://[::1]:8080", true), ("http://localhost:1338", true), ("http://[fe80::1]", true),
        ("http://10.0.0.1", false), ("http://imds.example.com", false), ("http://[2001:db8::1]", false),
    ])
    func warnsAboutEndpointsThatAreNeitherLinkLocalNorLoopback(url: String, local: Bool) throws {
        let endpoint = try IMDSEndpoint(url: url)
        #expect(endpoint.isLinkLocalOrLoopback == local)
        #expect((endpoint.locationWarning == nil) == local)
    }

    @Test func credentialsInTheEndpointNeverShow() throws {
        let endpoint = try IMDSEndpoint(url: "http://user:pa55@10.0.0.1")
        #expect(!"\(endpoint)".contains("pa55"))
        #expect(endpoint.locationWarning?.contains("pa55") == false)
        let error = #expect(throws: IMDSError.self) { try IMDSEndpoint(url: "ftp://user:pa55@10.0.0.1") }
        #expect(error.map { "\($0)".contains("pa55") } == false)
    }
}
