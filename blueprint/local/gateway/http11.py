"""HTTP/1.1 request framing for the local API (RFC 9112), on bytes and free of sockets.

The server (httpserver) hands a connection's buffered bytes to `head_end` and `parse_head`, and
a chunked body to `ChunkedBody`; they say what is complete, what is still missing, or why the
request cannot be served: a ProtocolError with its status and message, which the gateway
answers as JSON (with the template's CORS headers) before the connection closes (RFC 9112 §2.2:
"the server SHOULD respond with a 400 (Bad Request) response and close the connection").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus

# Request line plus header fields; more is refused 431 (414 when the request line alone is longer).
HEAD_LIMIT = 64 * 1024
MAX_HEADERS = 100
# A chunk-size line or a trailer line longer than this is not a body anyone sends.
_LINE_LIMIT = 8 * 1024

_END_OF_HEAD = re.compile(rb"\n\r?\n")  # RFC 9112 §2.2: a recipient MAY take a bare LF as a line end
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 §5.6.2
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
_TARGET_FORBIDDEN = re.compile(rb"[\x00-\x20\x7f]")  # no whitespace or controls inside a request-target
_VALUE_FORBIDDEN = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # controls other than HTAB inside a field value
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,19}")
_REASONS = {s.value: s.phrase for s in HTTPStatus}


class ProtocolError(Exception):
    """The bytes are not a request the server can serve: answer `status` with `message`, then close."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Head:
    method: str
    target: str  # origin-form: path and query string (an absolute-form target is reduced to it)
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    headers: list[tuple[str, str]]  # names as sent, values without surrounding whitespace
    keep_alive: bool
    expect_continue: bool  # the client waits for "100 Continue" before it sends the body
    content_length: int  # 0 when the body is chunked or absent
    chunked: bool


def first_byte_is_wrong(buf: bytes | bytearray) -> bool:
    """True when the bytes cannot start a request line (a TLS handshake on the plain port, binary noise):
    answered at once rather than after waiting for a line end that never comes."""
    return bool(buf) and buf[0] not in _TCHAR


def head_end(buf: bytes | bytearray) -> int:
    """The offset just past the empty line that ends the request head, or -1 when it has not arrived."""
    m = _END_OF_HEAD.search(buf)
    return m.end() if m else -1


def refuse_oversized_head(buf: bytes | bytearray) -> ProtocolError:
    """The answer to a head that grew past HEAD_LIMIT without ending."""
    if b"\n" not in buf[:HEAD_LIMIT]:
        return ProtocolError(414, "Request-URI Too Long")
    return ProtocolError(431, "Request Header Fields Too Large")


def _origin_form(target: bytes) -> bytes:
    # RFC 9112 §3.2.2: a server MUST accept the absolute-form; the host part is the Host header's job here.
    lowered = target[:8].lower()
    if lowered.startswith(b"http://") or lowered.startswith(b"https://"):
        rest = target.split(b"://", 1)[1]
        slash = rest.find(b"/")
        query = rest.find(b"?")
        if slash < 0 or 0 <= query < slash:
            return b"/" + (rest[query:] if query >= 0 else b"")
        return rest[slash:]
    return target


def parse_head(data: bytes) -> Head:
    """The request head (request line, header fields, the empty line) as sent; ProtocolError otherwise."""
    lines = [line[:-1] if line.endswith(b"\r") else line for line in data.split(b"\n")]
    parts = lines[0].split(b" ")
    if len(parts) == 2:
        raise ProtocolError(400, "HTTP/0.9 requests are not supported: the request line needs an HTTP version")
    if len(parts) != 3:
        raise ProtocolError(400, "Malformed request line")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise ProtocolError(400, "Malformed request method")
    m = _VERSION.fullmatch(version)
    if not m:
        raise ProtocolError(400, "Malformed HTTP version")
    if m.group(1) != b"1":
        raise ProtocolError(505, "HTTP Version Not Supported")
    if not target or _TARGET_FORBIDDEN.search(target):
        raise ProtocolError(400, "Malformed request target")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            break
        if line[:1] in (b" ", b"\t"):
            # RFC 9112 §5.2: obsolete line folding is rejected with a 400 (or replaced; we reject).
            raise ProtocolError(400, "Obsolete line folding in a header field is not accepted")
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):  # also catches whitespace before the colon (RFC 9112 §5.1)
            raise ProtocolError(400, "Malformed header field")
        value = value.strip(b" \t")
        if _VALUE_FORBIDDEN.search(value):
            raise ProtocolError(400, "Malformed header field value")
        headers.append((name.decode("latin-1"), value.decode("latin-1")))
        if len(headers) > MAX_HEADERS:
            raise ProtocolError(431, "Request Header Fields Too Large")
    http10 = m.group(2) == b"0"
    return _framed(method.decode("latin-1"), _origin_form(target).decode("latin-1"),
                   "HTTP/1.0" if http10 else "HTTP/1.1", headers)


def _framed(method: str, target: str, version: str, headers: list[tuple[str, str]]) -> Head:
    """The head with its message framing and connection options checked (RFC 9112 §6, §9)."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(value)
    http10 = version == "HTTP/1.0"
    if not http10 and len(values.get("host", ())) != 1:
        raise ProtocolError(400, "An HTTP/1.1 request needs exactly one Host header")  # RFC 9112 §3.2
    chunked, length = False, 0
    if "transfer-encoding" in values:
        # RFC 9112 §6.1: with Content-Length too, or in HTTP/1.0, the framing is faulty (request smuggling).
        if http10 or "content-length" in values:
            raise ProtocolError(400, "Transfer-Encoding with Content-Length, or in HTTP/1.0, is not accepted")
        codings = [c.strip().lower() for v in values["transfer-encoding"] for c in v.split(",") if c.strip()]
        if codings != ["chunked"]:
            raise ProtocolError(501, f"Transfer-Encoding {', '.join(codings) or '(empty)'} is not supported")
        chunked = True
    elif "content-length" in values:
        lengths = {c.strip() for v in values["content-length"] for c in v.split(",")}
        if len(lengths) != 1 or not _DIGITS.fullmatch(next(iter(lengths))):
            raise ProtocolError(400, "Malformed Content-Length")
        length = int(lengths.pop())
    options = {t.strip().lower() for v in values.get("connection", ()) for t in v.split(",")}
    keep_alive = "keep-alive" in options if http10 else "close" not in options
    expect = not http10 and any(v.strip().lower() == "100-continue" for v in values.get("expect", ()))
    return Head(method, target, version, headers, keep_alive, expect, length, chunked)


class ChunkedBody:
    """A chunked body decoded as its bytes arrive (RFC 9112 §7.1), from `start` in a connection's buffer."""

    def __init__(self, start: int, limit: int):
        self.pos = start  # the next byte to read in the buffer; the body's end once done
        self.limit = limit
        self.size = 0
        self.too_large = False
        self._parts: list[bytes] = []
        self._need = -1  # the size of the chunk being read; -1 reading a size line, -2 reading trailers
        self._trailers = 0

    def _line(self, buf: bytearray) -> bytes | None:
        nl = buf.find(b"\n", self.pos)
        if nl < 0:
            if len(buf) - self.pos > _LINE_LIMIT:
                raise ProtocolError(400, "Malformed chunked body: line too long")
            return None
        line = bytes(buf[self.pos:nl])
        self.pos = nl + 1
        return line[:-1] if line.endswith(b"\r") else line

    def feed(self, buf: bytearray) -> bool:
        """Read on from `pos`: True once the body is complete (or over the limit: `too_large`)."""
        while True:
            if self._need == -1:
                line = self._line(buf)
                if line is None:
                    return False
                size = line.split(b";", 1)[0].strip(b" \t")
                if not _HEX.fullmatch(size):
                    raise ProtocolError(400, "Malformed chunked body: bad chunk size")
                self._need = int(size, 16) or -2
                self.size += max(self._need, 0)
                if self.size > self.limit:
                    self.too_large = True
                    return True
            elif self._need == -2:
                line = self._line(buf)
                if line is None:
                    return False
                if not line:
                    return True
                self._trailers += 1
                if self._trailers > MAX_HEADERS:
                    raise ProtocolError(431, "Request Header Fields Too Large")
            else:
                end = self.pos + self._need
                if len(buf) < end + 2 and not (len(buf) == end + 1 and buf[end:end + 1] == b"\n"):
                    return False
                if buf[end:end + 2] == b"\r\n":
                    after = end + 2
                elif buf[end:end + 1] == b"\n":
                    after = end + 1
                else:
                    raise ProtocolError(400, "Malformed chunked body: chunk data longer than its size")
                self._parts.append(bytes(buf[self.pos:end]))
                self.pos, self._need = after, -1

    def body(self) -> bytes:
        return b"".join(self._parts)


def response_bytes(status: int, headers: list[tuple[str, str]], body: bytes, *, close: bool,
                   http10_keep_alive: bool = False, head_only: bool = False) -> bytes:
    """The response as one buffer (one send: no delayed-ACK stall on keep-alive connections)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}"]
    lines.extend(f"{k}: {v}" for k, v in headers if k.lower() not in ("content-length", "connection"))
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    elif http10_keep_alive:
        lines.append("Connection: keep-alive")  # an HTTP/1.0 client closes unless told otherwise
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head if head_only else head + body
