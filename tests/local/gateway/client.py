"""A tiny HTTP client for the local API tests, and raw-socket helpers for what http.client will not send."""
from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(base_url: str, method: str, path: str, *, headers: dict[str, str] | None = None,
         body: bytes | str | None = None) -> Reply:
    host_port, _, stage = base_url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, f"/{stage}{path}", body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def exchange(host: str, port: int, data: bytes, *, half_close: bool = False, timeout: float = 5.0) -> bytes:
    """Send raw bytes on a new connection and read until the server closes it (bounded by `timeout`)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)  # the client's end of the request: EOF for the server
        return read_to_close(sock)


def read_to_close(sock: socket.socket) -> bytes:
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


def parse_replies(raw: bytes) -> list[Reply]:
    """The HTTP/1.1 responses in `raw`, in order (every answer of the local API has a Content-Length)."""
    replies = []
    while raw:
        head, _, raw = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", 0))
        replies.append(Reply(int(lines[0].split(" ")[1]), headers, raw[:length]))
        raw = raw[length:]
    return replies
