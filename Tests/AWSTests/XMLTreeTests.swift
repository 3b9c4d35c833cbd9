import AWS
import Testing

@Suite("XML reader")
struct XMLTreeTests {
    @Test func readsAnErrorResponse() throws {
        let text = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
              <Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate &amp; limit &lt;exceeded&gt; &#x41;&#66;</Message></Error>
              <RequestId>abc-123</RequestId>
            </ErrorResponse>
            """
        let tree = try XMLTree.parse(Array(text.utf8))
        #expect(tree.name == "ErrorResponse")
        #expect(tree.child("Error")?.child("Code")?.text == "Throttling")
        #expect(tree.descendant("Message")?.text == "Rate & limit <exceeded> AB")
        #expect(tree.child("RequestId")?.text == "abc-123")
    }

    @Test func readsNestedMembersAndPrefixes() throws {
        let text = """
            <a:DescribeAutoScalingInstancesResponse xmlns:a="x"><a:DescribeAutoScalingInstancesResult><AutoScalingInstances>\
            <member><AutoScalingGroupName>web</AutoScalingGroupName></member><member><AutoScalingGroupName>two</AutoScalingGroupName></member>\
            </AutoScalingInstances></a:DescribeAutoScalingInstancesResult><!-- c --><Empty/></a:DescribeAutoScalingInstancesResponse>
            """
        let tree = try XMLTree.parse(Array(text.utf8))
        #expect(tree.name == "DescribeAutoScalingInstancesResponse")
        let members = tree.descendant("AutoScalingInstances")?.children ?? []
        #expect(members.map { $0.child("AutoScalingGroupName")?.text } == ["web", "two"])
        #expect(tree.child("Empty") == XMLTree(name: "Empty"))
    }

    @Test(arguments: [
        "", "<a>", "<a></b>", "<a>x</a><b/>", "<a>&unknown;</a>", "<a b=c/>", "<!DOCTYPE a><a/>",
        "<a><![CDATA[x]]></a>", "text", "<a>&#xD800;</a>", "<a>&amp</a>",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: XMLSyntaxError.self) { try XMLTree.parse(Array(text.utf8)) }
    }

    @Test func refusesDeepNesting() {
        let text = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: XMLSyntaxError.self) { try XMLTree.parse(Array(text.utf8)) }
    }

    @Test func classifiesErrorAnswers() {
        func error(_ status: Int, _ code: String, _ message: String = "m") -> AutoScalingError {
            let body =
                "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(message)</Message></Error></ErrorResponse>"
            return AutoScalingError.fromAnswer(
                status: status, body: Array(body.utf8), action: "RecordLifecycleActionHeartbeat")
        }
        #expect(error(400, "Throttling").code == .throttled)
        #expect(error(403, "AccessDenied").code == .accessDenied)
        #expect(error(403, "AccessDenied").description.contains("autoscaling:RecordLifecycleActionHeartbeat"))
        #expect(error(403, "ExpiredToken").code == .expiredToken)
        #expect(
            error(400, "ValidationError", "No active Lifecycle Action found with instance ID i-1").code
                == .noActiveLifecycleAction)
        #expect(error(400, "ValidationError", "Group not found").code == .rejected)
        #expect(error(503, "ServiceUnavailable").code == .serverError)
        #expect(AutoScalingError.fromAnswer(status: 502, body: Array("<html>".utf8), action: "X").code == .serverError)
        #expect(error(400, "Throttling").isRetryable && !error(403, "AccessDenied").isRetryable)
    }
}
