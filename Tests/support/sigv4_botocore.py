"""Signs requests with botocore's SigV4Auth (an independent signer) for the SigV4 tests.

stdin: a JSON array of requests {"method", "url", "headers": [[name, value]...], "body", "access_key",
"secret_key", "token" (or null), "region", "service", "amz_date"}.
stdout: a JSON array of the Authorization values botocore computes, one per request, in order.
The headers are exactly those to sign (as a server re-signing a received request does with SignedHeaders).
"""
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def authorization(item):
    credentials = Credentials(item["access_key"], item["secret_key"], item.get("token"))
    auth = SigV4Auth(credentials, item["service"], item["region"])
    request = AWSRequest(method=item["method"], url=item["url"], data=item["body"].encode("utf-8"))
    for name, value in item["headers"]:
        if name.lower() in ("authorization", "x-amz-date", "x-amz-security-token", "host"):
            continue
        request.headers[name] = value  # HTTPHeaders appends: a repeated name keeps every value
    request.context["timestamp"] = item["amz_date"]
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    auth._inject_signature_to_request(request, signature)
    return request.headers["Authorization"]


if __name__ == "__main__":
    print(json.dumps([authorization(item) for item in json.load(sys.stdin)]))
