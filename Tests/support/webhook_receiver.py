#!/usr/bin/env python3
"""A scriptable webhook receiver for imdswatch's tests, on 127.0.0.1 only.

Prints "PORT <n>" once listening. Every request outside /_control/ is recorded and answered with the next
scripted response for its path (200 when none is left).

Control API:
  POST /_control/script    {"path": "/hook", "responses": [{"status": 503, "delay": 0.5, "headers": {...}, "body": "..."}]}
  GET  /_control/requests  -> [{"path", "headers": [[name, value]], "body_b64", "time", "signature_valid", "status"}]

With --secret-file, each request's X-Imdswatch-Signature-256 is checked independently with Python's hmac module
(signature_valid: true/false; null when there is no secret or no header).
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
scripts = {}
received = []
secret = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_control/requests":
            with lock:
                body = json.dumps(received).encode()
            self._reply(200, body, {"Content-Type": "application/json"})
        else:
            self._reply(404)

    def do_POST(self):
        body = self._read_body()
        if self.path == "/_control/script":
            command = json.loads(body)
            with lock:
                scripts.setdefault(command["path"], []).extend(command["responses"])
            self._reply(200)
            return
        arrived = time.time()
        with lock:
            queue = scripts.get(self.path) or []
            response = queue.pop(0) if queue else {"status": 200}
        signature_valid = None
        header = self.headers.get("X-Imdswatch-Signature-256")
        if secret is not None and header is not None:
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            signature_valid = hmac.compare_digest(expected, header)
        if response.get("delay"):
            time.sleep(response["delay"])
        with lock:
            received.append({
                "path": self.path,
                "headers": [[name, value] for name, value in self.headers.items()],
                "body_b64": base64.b64encode(body).decode(),
                "time": arrived,
                "signature_valid": signature_valid,
                "status": response["status"],
            })
        self._reply(response["status"], response.get("body", "").encode(), response.get("headers"))


def main():
    global secret
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret-file")
    args = parser.parse_args()
    if args.secret_file:
        with open(args.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
