"""The HTTP/1.1 front of the local API: one event loop owns the sockets, a bounded pool of workers runs the pipeline.

Not the standard library's ThreadingHTTPServer: its listen backlog of 5 resets or stalls a burst
of connections before the gateway can answer any of them (not even 429); it starts a thread per
connection, without bound; and it answers what it cannot parse, and any method it has no do_X
for (TRACE, FOO), with its own HTML page instead of the gateway's JSON with CORS headers.

Here:
- the listening socket has a backlog of BACKLOG and the loop accepts connections as they come;
  an idle keep-alive connection waits in the selector and holds no thread;
- the loop reads each request whole (the head, then the body by Content-Length or chunked)
  without blocking, so a slow or stalled client never holds a worker; only a complete request
  reaches one of the `workers` threads (Gateway.handle);
- every request is answered by the gateway (JSON, the template's CORS headers, one access-log
  line), including the ones that cannot be served: bytes that are not HTTP/1.1
  (http11.ProtocolError), a body that ends before its Content-Length because the client closed
  (400) or stopped sending for `read_timeout` (408). Such a request never reaches the handler,
  and the connection closes after the answer (RFC 9112 §8: "A server that receives an
  incomplete request message [...] MAY send an error response prior to closing the connection");
- a connection closed after an answer is closed gently: write side first, then whatever the client
  still sends is read and dropped for up to LINGER_S, so that the answer is not lost to a reset.
"""
from __future__ import annotations

import selectors
import socket
import sys
import threading
import time
import traceback
from collections import deque
from queue import SimpleQueue

from blueprint.local.gateway import http11
from blueprint.local.gateway.core import PAYLOAD_LIMIT_BYTES, Gateway, Request, header_value

# Connections the kernel queues before the loop accepts them (capped by net.core.somaxconn).
BACKLOG = 1024
# Threads that run the pipeline. The handler runs in fewer containers (4 at most); the other
# workers keep answering what needs no container (429, 403, the CORS preflight) meanwhile.
WORKERS = 32
READ_TIMEOUT_S = 10.0  # a request whose bytes stop coming for this long is answered 408
IDLE_TIMEOUT_S = 60.0  # an idle keep-alive connection is closed after this; it holds no thread meanwhile
LINGER_S = 2.0
SEND_TIMEOUT_S = 10.0  # a client that does not read its answer for this long is disconnected
_RECV_BYTES = 256 * 1024
_TICK_S = 0.25  # how often timeouts are checked
_ACCEPT_BATCH = 64  # accepted per turn of the loop, so reading keeps pace with a flood of connections
_RESERVED_FDS = 64  # file descriptors left for the rest of the process (the handler's clients, logs)

_READING, _BUSY, _LINGERING = "reading", "busy", "lingering"
_LISTENER, _WAKE = object(), object()


def _connection_limit() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):
        return 1000
    return max(64, (soft if soft != resource.RLIM_INFINITY else 65536) - _RESERVED_FDS)


class _Conn:
    __slots__ = ("sock", "peer", "buf", "state", "last", "registered", "head", "body_start", "chunked",
                 "continued", "close_after", "http10_keep_alive", "broken")

    def __init__(self, sock: socket.socket, peer: str, now: float):
        self.sock, self.peer = sock, peer
        self.buf = bytearray()
        self.state = _READING
        self.last = now  # when bytes last came, or the connection last became idle
        self.registered = False
        self.close_after = self.http10_keep_alive = self.broken = False
        self.next_request()

    def next_request(self) -> None:
        self.head: http11.Head | None = None
        self.body_start = 0
        self.chunked: http11.ChunkedBody | None = None
        self.continued = False


class LocalApiServer:
    """The server on 127.0.0.1:port (0 picks a free port); serve in the foreground or a thread."""

    def __init__(self, gateway: Gateway, host: str = "127.0.0.1", port: int = 0, *, workers: int = WORKERS,
                 read_timeout: float = READ_TIMEOUT_S, idle_timeout: float = IDLE_TIMEOUT_S):
        self.gateway = gateway
        # create_server sets SO_REUSEADDR: a restarted `blueprint serve` gets its port back at once.
        self.socket = socket.create_server((host, port), backlog=BACKLOG)
        self.socket.setblocking(False)
        self.host, self.port = self.socket.getsockname()[:2]
        self.workers, self.read_timeout, self.idle_timeout = max(1, workers), read_timeout, idle_timeout
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._returned: deque[_Conn] = deque()  # connections the workers have answered on
        self._jobs: SimpleQueue[tuple[_Conn, Request] | None] = SimpleQueue()
        self._conns: set[_Conn] = set()
        self._max_conns = _connection_limit()
        self._accepting = False
        self._resume_at = 0.0
        self._stopping = threading.Event()
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------------

    def serve_forever(self) -> None:
        workers = [threading.Thread(target=self._work, name=f"local-api-worker-{i}", daemon=True)
                   for i in range(self.workers)]
        for t in workers:
            t.start()
        try:
            self._selector.register(self._wake_r, selectors.EVENT_READ, _WAKE)
            self._listen(True)
            next_sweep = 0.0
            while not self._stopping.is_set():
                events = self._selector.select(_TICK_S)
                now = time.monotonic()
                for key, _ in events:
                    if key.data is _LISTENER:
                        self._accept(now)
                    elif key.data is _WAKE:
                        self._drain_wake()
                    else:
                        self._readable(key.data, now)
                self._take_answered(now)
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + _TICK_S
        finally:
            for _ in workers:
                self._jobs.put(None)  # each worker ends after its current request
            self._close_all()

    def start(self) -> "LocalApiServer":
        self._thread = threading.Thread(target=self.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every socket; safe when start() was never called, and twice."""
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_all()

    def _close_all(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for conn in list(self._conns):
            conn.sock.close()
        self._conns.clear()
        for sock in (self.socket, self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass  # its buffer is full (the loop is awake anyway) or the server is closed

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    # -- connections ---------------------------------------------------------------------------

    def _listen(self, on: bool) -> None:
        if on and not self._accepting:
            self._selector.register(self.socket, selectors.EVENT_READ, _LISTENER)
        elif not on and self._accepting:
            self._selector.unregister(self.socket)
        self._accepting = on

    def _accept(self, now: float) -> None:
        for _ in range(_ACCEPT_BATCH):
            if len(self._conns) >= self._max_conns and not self._close_an_idle_connection():
                # Out of descriptors for more: new connections wait in the kernel's backlog.
                self._listen(False)
                return
            try:
                sock, peer = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # EMFILE, ENOBUFS...: the connection stays in the backlog; try again shortly
                self._listen(False)
                self._resume_at = now + 0.1
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one send per answer, no Nagle wait
            conn = _Conn(sock, peer[0], now)
            self._conns.add(conn)
            self._register(conn)

    def _close_an_idle_connection(self) -> bool:
        """Make room by closing the longest-idle keep-alive connection (HTTP lets a server close those)."""
        idle = [c for c in self._conns if c.state == _READING and not c.buf and c.head is None]
        if not idle:
            return False
        self._close(min(idle, key=lambda c: c.last))
        return True

    def _register(self, conn: _Conn) -> None:
        self._selector.register(conn.sock, selectors.EVENT_READ, conn)
        conn.registered = True

    def _unregister(self, conn: _Conn) -> None:
        if conn.registered:
            self._selector.unregister(conn.sock)
            conn.registered = False

    def _close(self, conn: _Conn) -> None:
        self._unregister(conn)
        conn.sock.close()
        self._conns.discard(conn)

    def _linger(self, conn: _Conn, now: float) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)  # the answer is sent; the client sees the end of it
        except OSError:
            self._close(conn)
            return
        conn.state, conn.last = _LINGERING, now
        conn.buf.clear()
        self._register(conn)

    def _sweep(self, now: float) -> None:
        for conn in list(self._conns):
            if conn.state == _LINGERING and now - conn.last > LINGER_S:
                self._close(conn)
            elif conn.state == _READING and now - conn.last > self.read_timeout and (conn.buf or conn.head):
                self._refuse(conn, http11.ProtocolError(
                    408, f"Request Timeout: the request stopped arriving for {self.read_timeout:g} s"), conn.head)
            elif conn.state == _READING and now - conn.last > self.idle_timeout:
                self._close(conn)
        if not self._accepting and now >= self._resume_at and len(self._conns) < self._max_conns:
            self._listen(True)

    # -- reading requests ------------------------------------------------------------------------

    def _readable(self, conn: _Conn, now: float) -> None:
        try:
            data = conn.sock.recv(_RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)  # reset by the client: nobody is left to answer
            return
        if conn.state == _LINGERING:
            if not data:
                self._close(conn)
            return  # the rest of a request already answered: dropped
        if data:
            conn.buf += data
            conn.last = now
        self._advance(conn, eof=not data)

    def _advance(self, conn: _Conn, eof: bool = False) -> None:
        """Hand the connection's next request to a worker once it is complete, or its refusal once it cannot be."""
        if conn.head is None:
            blank = len(conn.buf) - len(conn.buf.lstrip(b"\r\n"))
            if blank:
                del conn.buf[:blank]  # RFC 9112 §2.2: empty lines before a request line are ignored
            if not conn.buf:
                if eof:
                    self._close(conn)  # the client is done: between requests, nothing to answer
                return
            if http11.first_byte_is_wrong(conn.buf):
                return self._refuse(conn, http11.ProtocolError(400, "Malformed request line"))
            end = http11.head_end(conn.buf)
            if end < 0 or end > http11.HEAD_LIMIT:
                if len(conn.buf) > http11.HEAD_LIMIT:
                    return self._refuse(conn, http11.refuse_oversized_head(conn.buf))
                if eof:
                    return self._refuse(conn, http11.ProtocolError(
                        400, "The connection closed before the request's header fields ended"))
                return
            try:
                conn.head = http11.parse_head(bytes(conn.buf[:end]))
            except http11.ProtocolError as exc:
                return self._refuse(conn, exc)
            conn.body_start = end
            if conn.head.chunked:
                conn.chunked = http11.ChunkedBody(end, PAYLOAD_LIMIT_BYTES)
        head = conn.head
        if conn.chunked is not None:
            try:
                done = conn.chunked.feed(conn.buf)
            except http11.ProtocolError as exc:
                return self._refuse(conn, exc, head)
            end = conn.chunked.pos
            too_large = conn.chunked.too_large
        else:
            end = conn.body_start + head.content_length
            done = len(conn.buf) >= end
            too_large = head.content_length > PAYLOAD_LIMIT_BYTES
        if too_large:
            # The gateway answers 413 at once and the connection closes; the body is never read.
            return self._dispatch(conn, self._request(conn, head, too_large=True), close=True)
        if not done:
            if eof:
                got = len(conn.buf) - conn.body_start
                return self._refuse(conn, http11.ProtocolError(400, (
                    "The chunked request body ended before its last chunk" if conn.chunked is not None else
                    f"The request body ended after {got} of its {head.content_length} bytes (Content-Length)")), head)
            if head.expect_continue and not conn.continued:
                conn.continued = True
                try:
                    conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                except OSError:
                    pass  # the client sends its body after its own wait anyway
            return
        body = conn.chunked.body() if conn.chunked is not None else bytes(conn.buf[conn.body_start:end])
        del conn.buf[:end]
        request = self._request(conn, head, body, received=time.monotonic())
        # A client that closed its side after a whole request still gets the answer, then the close.
        self._dispatch(conn, request, close=eof or not head.keep_alive,
                       http10_keep_alive=head.keep_alive and head.version == "HTTP/1.0")

    def _request(self, conn: _Conn, head: http11.Head | None, body: bytes = b"", *, too_large: bool = False,
                 refused: tuple[int, str] | None = None, received: float | None = None) -> Request:
        headers = head.headers if head else []
        return Request(method=head.method if head else "", target=head.target if head else "", headers=headers,
                       body=body, source_ip=conn.peer, protocol=head.version if head else "HTTP/1.1",
                       host=header_value(headers, "host") or f"{self.host}:{self.port}", port=self.port,
                       too_large=too_large, refused=refused, received=received)

    def _refuse(self, conn: _Conn, error: http11.ProtocolError, head: http11.Head | None = None) -> None:
        """The gateway's answer to what cannot be served as a request; the connection closes after it."""
        conn.buf.clear()
        self._dispatch(conn, self._request(conn, head, refused=(error.status, error.message)), close=True)

    def _dispatch(self, conn: _Conn, request: Request, *, close: bool, http10_keep_alive: bool = False) -> None:
        self._unregister(conn)  # a pipelined next request waits in the kernel until this one is answered
        conn.next_request()
        conn.state, conn.close_after, conn.http10_keep_alive = _BUSY, close, http10_keep_alive
        self._jobs.put((conn, request))

    def _take_answered(self, now: float) -> None:
        while self._returned:
            conn = self._returned.popleft()
            if conn.broken:
                self._close(conn)
            elif conn.close_after:
                self._linger(conn, now)
            else:
                conn.state, conn.last = _READING, now
                self._register(conn)
                if conn.buf:
                    self._advance(conn)  # a pipelined request that had already arrived

    # -- the workers -----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            conn, request = job
            try:
                answer = self.gateway.handle(request)
                status, headers, body = answer.status, answer.headers, answer.body
            except Exception:  # noqa: BLE001 - a bug in the pipeline: still an answer, the traceback on stderr
                traceback.print_exc(file=sys.stderr)
                status, headers, body = 500, [("Content-Type", "application/json")], b'{"message":"Internal server error"}'
                conn.close_after = True
            data = http11.response_bytes(status, headers, body, close=conn.close_after,
                                         http10_keep_alive=conn.http10_keep_alive, head_only=request.method == "HEAD")
            try:
                conn.sock.settimeout(SEND_TIMEOUT_S)
                conn.sock.sendall(data)
                conn.sock.setblocking(False)
            except OSError:
                conn.broken = True  # the client left (or stopped reading): nobody to answer
            self._returned.append(conn)
            self._wake()
