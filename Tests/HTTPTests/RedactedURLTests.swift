import HTTP
import Testing

@Suite struct RedactedURLTests {
    @Test func removesUserInfo() {
        #expect(RedactedURL.redact("https://alice:s3cret@hooks.example.com/x") == "https://***@hooks.example.com/x")
    }

    @Test func masksQueryValuesButKeepsNames() {
        #expect(
            RedactedURL.redact("https://h.example.com/p?token=abc&x=1#frag")
                == "https://h.example.com/p?token=***&x=***#***")
    }

    @Test func leavesPlainURLsAlone() {
        #expect(RedactedURL.redact("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook")
    }

    @Test func atSignInPathIsNotUserInfo() {
        #expect(RedactedURL.redact("https://h.example.com/a@b") == "https://h.example.com/a@b")
    }

    @Test func masksSecretPathsOfKnownReceiversInErrorsToo() {
        let error = HTTPError(code: .timedOut, detail: "timeout", url: "https://hooks.slack.com/services/T1/B2/sEcReT")
        #expect(!error.description.contains("sEcReT"))
    }

    @Test func errorsCarryRedactedURLs() {
        let error = HTTPError(code: .timedOut, detail: "timeout", url: "https://u:p@h.example.com/?k=v")
        #expect(!error.description.contains("u:p"))
        #expect(!error.description.contains("k=v"))
    }
}
