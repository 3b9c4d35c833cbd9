import HTTP
import Testing

@Suite("HTTPResponse.header")
struct HTTPResponseHeaderTests {
    private let response = HTTPResponse(
        status: 200,
        headers: [
            HTTPHeader("Content-Type", "text/plain"),
            HTTPHeader("X-aws-ec2-metadata-token-ttl-seconds", "21599"),
            HTTPHeader("x-aws-ec2-metadata-token-ttl-seconds", "1"),
        ])

    @Test func namesAreComparedWithoutRegardToASCIICase() {
        #expect(response.header("content-type") == "text/plain")
        #expect(response.header("CONTENT-TYPE") == "text/plain")
        #expect(response.header("X-AWS-EC2-METADATA-TOKEN-TTL-SECONDS") == "21599", "the first of two fields")
    }

    @Test func onlyLettersFoldAndLengthsMustMatch() {
        // '-' (0x2D) and '\r' (0x0D) differ by the case bit; so do '[' (0x5B) and '{' (0x7B): none are letters.
        #expect(response.header("Content\rType") == nil)
        #expect(response.header("Content-Typ") == nil)
        #expect(response.header("Content-Types") == nil)
        #expect(HTTPResponse(status: 200, headers: [HTTPHeader("[", "x")]).header("{") == nil)
    }
}
