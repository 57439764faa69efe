"""CloudFormation's "Rate exceeded" is retried with back-off by the clients blueprint makes (blueprint.ship.aws),
never a failure: a real HTTP endpoint answers Throttling twice, then the call succeeds."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

from blueprint.ship import aws

THROTTLED = (b'<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type>'
             b'<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>')
LISTED = (b'<ListStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ListStacksResult>'
          b'<StackSummaries/></ListStacksResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata>'
          b'</ListStacksResponse>')


def test_rate_exceeded_is_retried_with_backoff_until_it_succeeds():
    calls = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the name http.server calls
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            calls.append(self.path)
            body, status = (THROTTLED, 400) if len(calls) <= 2 else (LISTED, 200)
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert aws.CLIENT_CONFIG["retries"]["mode"] == "adaptive"
        cfn = boto3.session.Session().client(
            "cloudformation", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{server.server_port}",
            aws_access_key_id="x", aws_secret_access_key="x", config=Config(**aws.CLIENT_CONFIG))
        assert cfn.list_stacks()["StackSummaries"] == []
        assert len(calls) == 3
    finally:
        server.shutdown()
