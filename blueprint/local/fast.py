"""Speed-ups of the local AWS's HTTP layer (werkzeug's dev server + moto's dispatcher), not of moto itself.

Each optimisation is one small function; its docstring says why it cannot change what a client sees
(status, headers other than `Connection`, body) or what moto does. `blueprint.local.server` uses
them; nothing else does, so moto in-process (tests, canaries) is untouched.

Measured on DynamoDB GetItem (bench/README.md, "## Local API"): werkzeug 3.1 closes every connection
(`Connection: close`), so each boto3 call paid a TCP connect, a new server thread and werkzeug's
post-response drain; moto's dispatcher listed moto's package folder (~200 `isdir` calls) under a
global lock on every request to find the backend for "dynamodb".
"""
from __future__ import annotations

from typing import Any

from werkzeug.exceptions import InternalServerError
from werkzeug.serving import DechunkedInput, WSGIRequestHandler, connection_dropped_errors
from werkzeug.wsgi import LimitedStream

# A request body the application left unread is drained (read and dropped) so the next request on
# the connection starts at its request line; past this many bytes the connection is closed instead.
DRAIN_LIMIT = 10 * 1024 * 1024
# Bounded memo of host -> backend name (hosts are derived from client-supplied signing scopes).
BACKEND_CACHE_SIZE = 1024


def keep_alive_handler(base: type[WSGIRequestHandler]) -> type[WSGIRequestHandler]:
    """A subclass of `base` (moto's MotoRequestHandler) that keeps HTTP/1.1 connections open.

    Why: werkzeug >= 3.1 sends `Connection: close` on every response, because http.server cannot
    find the next request line when the application leaves part of a body unread. boto3 then opens
    a new TCP connection (and the server a new thread) for every call, and werkzeug waits up to
    10 ms per request in a select() to drain the socket.

    Why it is safe: the request body is framed here instead - `wsgi.input` is limited to
    Content-Length (or dechunked, as werkzeug does), and whatever the application did not read is
    drained after the response (at most DRAIN_LIMIT bytes, else the connection is closed, as
    before). A connection is kept only when the response is framed too: a Content-Length that
    matches the bytes written, chunked encoding, or a response without a body (HEAD, 1xx, 204,
    304); an HTTP/1.0 request, a client's `Connection: close`, an application error or a dropped
    connection all close it exactly as werkzeug did. Status, headers (except the `Connection:
    close` werkzeug added) and body are produced by the same code paths (send_response, so the
    access-log line is unchanged). Idle connections cost a parked daemon thread, as one
    in-flight request did before.

    Also: the status line, headers and the first body chunk go out in one write (werkzeug writes
    them separately), so a kept-alive connection never meets the Nagle/delayed-ACK stall.
    """

    class KeepAliveRequestHandler(base):  # type: ignore[valid-type, misc]
        protocol_version = "HTTP/1.1"

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            stream = environ["wsgi.input"]
            if not isinstance(stream, DechunkedInput):
                try:
                    length = max(int(environ.get("CONTENT_LENGTH") or 0), 0)
                except ValueError:
                    length = 0
                    self.close_connection = True  # unframed body: cannot find the next request
                stream = LimitedStream(stream, length)
                environ["wsgi.input"] = stream
            self._body_stream = stream
            return environ

        def _drain_body(self) -> None:
            """Read what the application left of the request body; close the connection if too much."""
            stream = self._body_stream
            if isinstance(stream, LimitedStream):
                if stream.is_exhausted:
                    return
                if stream.limit - stream.tell() > DRAIN_LIMIT:
                    self.close_connection = True
                    return
                stream.exhaust()
                return
            total = 0
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    return
                total += len(chunk)
                if total > DRAIN_LIMIT:
                    self.close_connection = True
                    return

        def run_wsgi(self) -> None:  # werkzeug 3.1's run_wsgi, with framing instead of "always close"
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

            if self.request_version != "HTTP/1.1":
                self.close_connection = True
            self.environ = environ = self.make_environ()
            status_set: str | None = None
            headers_set: list[tuple[str, str]] | None = None
            status_sent: str | None = None
            headers_sent: list[tuple[str, str]] | None = None
            chunk_response = False
            expected: int | None = None  # Content-Length promised, when the body is counted
            written = 0

            def write(data: bytes) -> None:
                nonlocal status_sent, headers_sent, chunk_response, expected, written
                assert status_set is not None, "write() before start_response"
                assert headers_set is not None, "write() before start_response"
                if status_sent is None:
                    status_sent = status_set
                    headers_sent = headers_set
                    try:
                        code_str, msg = status_sent.split(None, 1)
                    except ValueError:
                        code_str, msg = status_sent, ""
                    code = int(code_str)
                    self.send_response(code, msg)
                    header_keys = set()
                    content_length = None
                    for key, value in headers_sent:
                        self.send_header(key, value)
                        lower = key.lower()
                        header_keys.add(lower)
                        if lower == "content-length":
                            content_length = value
                    bodyless = environ["REQUEST_METHOD"] == "HEAD" or 100 <= code < 200 or code in {204, 304}
                    if not ("content-length" in header_keys or bodyless) and self.protocol_version >= "HTTP/1.1":
                        chunk_response = True
                        self.send_header("Transfer-Encoding", "chunked")
                    if content_length is not None and not bodyless:
                        try:
                            expected = int(content_length)
                        except ValueError:
                            self.close_connection = True
                    if self.close_connection:
                        self.send_header("Connection", "close")
                    self._headers_buffer.append(b"\r\n")
                    head = b"".join(self._headers_buffer)
                    self._headers_buffer = []
                    if data and not chunk_response:
                        written += len(data)
                        self.wfile.write(head + data)  # one segment: no Nagle/delayed-ACK stall
                        return
                    self.wfile.write(head)

                assert isinstance(data, bytes), "applications must write bytes"
                if data:
                    if chunk_response:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    else:
                        written += len(data)
                        self.wfile.write(data)

            def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
                nonlocal status_set, headers_set
                if exc_info:
                    try:
                        if headers_sent:
                            raise exc_info[1].with_traceback(exc_info[2])
                    finally:
                        exc_info = None
                elif headers_set:
                    raise AssertionError("Headers already set")
                status_set = status
                headers_set = headers
                return write

            def execute(app: Any) -> None:
                application_iter = app(environ, start_response)
                try:
                    for data in application_iter:
                        write(data)
                    if not headers_sent:
                        write(b"")
                    if chunk_response:
                        self.wfile.write(b"0\r\n\r\n")
                finally:
                    if hasattr(application_iter, "close"):
                        application_iter.close()

            try:
                execute(self.server.app)
                if expected is not None and written != expected:
                    self.close_connection = True  # the body does not match its framing
                if not self.close_connection:
                    self._drain_body()
            except connection_dropped_errors as e:
                self.close_connection = True
                self.connection_dropped(e, environ)
            except Exception as e:
                self.close_connection = True
                if self.server.passthrough_errors:
                    raise
                try:
                    if status_sent is None:
                        status_set = None
                        headers_set = None
                    execute(InternalServerError())
                except Exception:
                    pass

                from werkzeug.debug.tbtools import DebugTraceback

                msg = DebugTraceback(e).render_traceback_text()
                self.server.log("error", f"Error on request:\n{msg}")

    KeepAliveRequestHandler.__name__ = KeepAliveRequestHandler.__qualname__ = f"KeepAlive{base.__name__}"
    return KeepAliveRequestHandler


def fast_dispatcher(base: type) -> type:
    """A subclass of moto's DomainDispatcherApplication that finds the backend app without the global lock.

    Why: for every request moto's `get_application` holds one lock for all threads while it works
    out the backend: `get_backend_for_host` lists moto's package folder (`isdir` on ~200 entries)
    and may try ~180 URL regexes. Every concurrent request queued behind that.

    Why it is safe: `get_backend_for_host` is a pure function of the host string (moto's folder
    and URL table do not change while the server runs), so its non-empty answers are memoised
    (bounded; an empty answer is not cached, so moto's "Unable to find appropriate backend"
    message still prints). The routing code is moto's own, called in the same order; the lock
    now guards only what it was for - creating each backend's Flask app once.
    """

    class FastDomainDispatcherApplication(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._backend_for_host: dict[str, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            if host is None:
                return None
            backend = self._backend_for_host.get(host)
            if backend is None:
                backend = super().get_backend_for_host(host)
                if backend and len(self._backend_for_host) < BACKEND_CACHE_SIZE:
                    self._backend_for_host[host] = backend
            return backend

        def get_application(self, environ: dict[str, Any]) -> Any:
            # moto 5.2.5's DomainDispatcherApplication.get_application, the lock moved to app creation
            from moto.moto_server.werkzeug_app import DEFAULT_SERVICE_REGION

            path_info = environ.get("PATH_INFO", "")
            if isinstance(path_info, bytes):
                path_info = path_info.decode("utf-8")
            if path_info.startswith("/moto-api") or path_info == "/favicon.ico":
                host = "moto_api"
            elif path_info.startswith("/latest/meta-data/") or path_info.startswith("/latest/api/"):
                host = "instance_metadata"
            else:
                host = None

            backend = self.get_backend_for_host(host)
            if not backend:
                host = self.infer_service_region_host(environ, path_info)
                if host is None:
                    service, region = DEFAULT_SERVICE_REGION
                    host = f"{service}.{region}.amazonaws.com"
                backend = self.get_backend_for_host(host)

            app = self.app_instances.get(backend)
            if app is None:
                with self.lock:
                    app = self.app_instances.get(backend)
                    if app is None:
                        app = self.create_app(backend)
                        self.app_instances[backend] = app
            return app

    return FastDomainDispatcherApplication

