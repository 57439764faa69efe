"""The HTTP/1.1 front of the local API: a thread per connection, keep-alive, one write per response.

Built on the standard library's ThreadingHTTPServer (no WSGI layer between the socket and the
pipeline: fewer copies, and the headers reach the event exactly as sent). Nagle is off and each
response goes out in one send, so keep-alive clients never wait on delayed ACKs.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from blueprint.local.gateway.core import PAYLOAD_LIMIT_BYTES, Gateway, Request

_REASONS = BaseHTTPRequestHandler.responses


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "blueprint-local-apigateway"
    gateway: Gateway  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # the access log is the gateway's, in the stage's format

    def _read_body(self) -> bytes | None:
        """The request body; None when it is larger than API Gateway's payload limit (left unread)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > PAYLOAD_LIMIT_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > PAYLOAD_LIMIT_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "bad request body framing")
            return
        too_large = body is None
        if too_large:
            # Too large to read: the gateway answers 413, and the connection closes (the rest is unread).
            self.close_connection = True
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        req = Request(method=self.command, target=self.path, headers=list(self.headers.items()), body=body or b"",
                      source_ip=self.client_address[0], protocol=self.request_version, host=host,
                      port=self.server.server_address[1], too_large=too_large)
        answer = self.gateway.handle(req)
        reason = _REASONS.get(answer.status, ("",))[0]
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        lines.extend(f"{k}: {v}" for k, v in answer.headers if k.lower() not in ("content-length", "connection"))
        lines.append(f"Content-Length: {len(answer.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + (b"" if self.command == "HEAD" else answer.body))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # a restarted `blueprint serve` gets its port back at once
    daemon_threads = True


class LocalApiServer:
    """The server on 127.0.0.1:port (0 picks a free port); serve in the foreground or a thread."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0):
        handler = type("GatewayHandler", (_Handler,), {"gateway": gateway})
        self.httpd = _Server((host, port), handler)
        self.host, self.port = self.httpd.server_address[0], self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def start(self) -> "LocalApiServer":
        self._thread = threading.Thread(target=self.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe when start() was never called (shutdown() would
        wait forever for a serve_forever loop that is not running)."""
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.httpd.server_close()
