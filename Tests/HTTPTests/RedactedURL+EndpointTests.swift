import HTTP
import Testing

@Suite struct RedactedEndpointTests {
    @Test func dropsCredentialsQueryAndFragment() {
        #expect(
            RedactedURL.endpoint("https://alice:s3cret@hooks.example.com:8443/x/y?token=abc&x=1#frag")
                == "https://hooks.example.com:8443/x/y")
    }

    @Test func keepsPlainURLsAndAtSignsInPaths() {
        #expect(RedactedURL.endpoint("http://127.0.0.1:8080/hook") == "http://127.0.0.1:8080/hook")
        #expect(RedactedURL.endpoint("https://h.example.com/a@b") == "https://h.example.com/a@b")
        #expect(RedactedURL.endpoint("https://u@h.example.com") == "https://h.example.com")
    }
}
