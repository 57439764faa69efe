"""The local API's connections: a burst of them, methods API Gateway has no such resource method for,
bytes that are not a request, bodies that end early, keep-alive and pipelining. Loopback only,
every wait bounded."""
from __future__ import annotations

import io
import json
import socket
import threading
import time

import pytest

from blueprint.local import load
from blueprint.local.gateway.httpserver import LocalApiServer
from tests.local.gateway.client import call, exchange, parse_replies, read_to_close
from tests.local.gateway.conftest import KEY, build_api

ORIGIN = "http://localhost:3000"


def _cors(dev_api, response_type: str) -> dict[str, str]:
    params = dev_api.gateway_responses[response_type].parameters
    return {k.removeprefix("gatewayresponse.header.").lower(): v.strip("'") for k, v in params.items()}


def _raw(local_api, data: bytes, **kw) -> list:
    return parse_replies(exchange(local_api.server.host, local_api.server.port, data, **kw))


@pytest.fixture
def handler_calls(local_api, monkeypatch) -> list:
    """Every invocation of the function in this test (the handler is never reached when this stays empty)."""
    calls: list = []
    invoke = local_api.gateway.runtime.invoke

    def counting(event, *args, **kwargs):
        calls.append(event)
        return invoke(event, *args, **kwargs)

    monkeypatch.setattr(local_api.gateway.runtime, "invoke", counting)
    return calls


# -- a burst of connections ------------------------------------------------------------------------

def test_200_simultaneous_connections_are_each_answered_by_the_handler_or_429(moto_endpoint):
    """200 threads each open their own connection at once, GETs and POSTs mixed, against the dev
    template's limits (usage plan: 50 req/s, burst 100 per key): none is reset or left to time out.
    The buckets' clock stands still, so exactly the burst is admitted however fast this machine is
    (on a slow one, 200 requests spread over 2 s would all fit in burst + rate x time)."""
    log = io.StringIO()
    api = build_api(moto_endpoint, throttling=True, log=log, clock=lambda: 0.0)
    try:
        host, port, stage = api.server.host, api.server.port, api.api.stage
        headers = {"x-api-key": KEY, "Content-Type": "application/json"}
        get = load.http_calls(host, port, "GET", f"/{stage}/items?limit=1", headers, timeout=20, keep_alive=False)
        post = load.http_calls(host, port, "POST", f"/{stage}/items", headers, timeout=20, keep_alive=False,
                               body=b'{"name": "burst"}')
        result = load.bounded(lambda i: (get if i % 2 else post)(i), threads=200, total=200, seconds=30, per_thread=1)
    finally:
        api.stop()
    assert result.errors == 0, result.error_kinds
    assert result.calls == 200 and set(result.statuses) <= {200, 201, 429}, result.statuses
    assert result.statuses.get(200) and result.statuses.get(201), result.statuses
    plan = api.api.usage_plans[0].throttle
    admitted = result.statuses[200] + result.statuses[201]
    assert admitted == plan.burst_limit and result.statuses[429] == 200 - plan.burst_limit, result.statuses
    assert log.getvalue().count("\n") == 200  # each answered and logged once


def test_idle_connections_hold_no_thread_and_block_no_one(local_api):
    assert call(local_api.url, "OPTIONS", "/items").status == 204  # the server and its workers are running
    before = threading.active_count()
    idle = [socket.create_connection((local_api.server.host, local_api.server.port), timeout=5) for _ in range(100)]
    try:
        started = time.monotonic()
        assert call(local_api.url, "OPTIONS", "/items", headers={"Origin": ORIGIN}).status == 204
        assert time.monotonic() - started < 2
        assert threading.active_count() - before < 5  # the server's threads are a fixed pool
    finally:
        for sock in idle:
            sock.close()


# -- methods and bytes API Gateway has no resource method for ----------------------------------------

@pytest.mark.parametrize("method", ["TRACE", "FOO", "CONNECT", "PROPFIND", "PATCH"])
@pytest.mark.parametrize("key", [True, False], ids=["with-key", "no-key"])
def test_a_method_the_resource_lacks_is_missing_authentication_token_with_cors(local_api, dev_api, handler_calls,
                                                                                method, key):
    headers = {"Origin": ORIGIN, **({"x-api-key": KEY} if key else {})}
    reply = call(local_api.url, method, "/items", headers=headers)
    assert reply.status == 403
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert reply.json()["error"] == {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}
    for name, value in _cors(dev_api, "DEFAULT_4XX").items():
        assert reply.headers[name] == value
    assert not handler_calls


def test_connect_to_an_authority_is_outside_every_stage(local_api):
    (reply,) = _raw(local_api, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n")
    assert reply.status == 403 and reply.json() == {"message": "Forbidden"}


@pytest.mark.parametrize("data,status", [
    (b"GET /v1/items HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n", 400),
    (b"GET /v1/items HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n", 400),
    (b"GET /v1/items HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
    (b"GET /v1/items\r\n\r\n", 400),  # HTTP/0.9
    (b"GET /v1/items HTTP/1.1\r\n\r\n", 400),  # no Host
    (b"GET /v1/it ems HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"G(T /v1/items HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /v1/items HTTQ/1.1\r\nHost: x\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),  # a TLS handshake on the plain port
    (b"GET /v1/items HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    (b"POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400),
    (b"POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n", 400),
    (b"POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    (b"POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"GET /v1/items HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"GET /v1/" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
], ids=["space-in-name", "folding", "no-colon", "http-0.9", "no-host", "space-in-target", "bad-method",
        "bad-version", "tls", "http-2", "length-and-chunked", "bad-length", "two-lengths", "gzip-coding",
        "bad-chunk", "101-headers", "long-line"])
def test_what_is_not_an_http_request_gets_the_gateways_json_with_cors_then_a_close(local_api, dev_api, handler_calls,
                                                                                   data, status):
    (reply,) = _raw(local_api, data)  # one answer, then the server closes the connection
    assert reply.status == status
    assert reply.headers["content-type"] == "application/json" and reply.headers["connection"] == "close"
    body = reply.json()  # shaped by the rendered DEFAULT_4XX / DEFAULT_5XX template
    assert body["error"]["code"] == ("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") and body["error"]["message"]
    for name, value in _cors(dev_api, "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX").items():
        assert reply.headers[name] == value
    assert not handler_calls


# -- bodies that end early ---------------------------------------------------------------------------

def _post_head(length_header: str) -> bytes:
    return (f"POST /v1/items HTTP/1.1\r\nHost: localhost\r\nx-api-key: {KEY}\r\nContent-Type: application/json\r\n"
            f"{length_header}\r\n\r\n").encode()


def test_a_body_shorter_than_its_content_length_is_400_and_never_reaches_the_handler(local_api, handler_calls):
    (reply,) = _raw(local_api, _post_head("Content-Length: 40") + b'{"name": ', half_close=True)
    assert reply.status == 400
    assert reply.json()["error"]["message"] == "The request body ended after 9 of its 40 bytes (Content-Length)"
    assert reply.headers["access-control-allow-origin"] == ORIGIN
    assert not handler_calls


def test_a_chunked_body_without_its_last_chunk_is_400(local_api, handler_calls):
    (reply,) = _raw(local_api, _post_head("Transfer-Encoding: chunked") + b"5\r\n{\"a\":\r\n", half_close=True)
    assert reply.status == 400 and "last chunk" in reply.json()["error"]["message"]
    assert not handler_calls


def test_a_client_that_leaves_mid_body_is_logged_400_and_never_reaches_the_handler(local_api, access_log, handler_calls):
    before = access_log.getvalue().count("\n")
    with socket.create_connection((local_api.server.host, local_api.server.port), timeout=5) as sock:
        sock.sendall(_post_head("Content-Length: 100") + b"{")
    deadline = time.monotonic() + 5
    while access_log.getvalue().count("\n") == before and time.monotonic() < deadline:
        time.sleep(0.02)
    (line,) = access_log.getvalue().splitlines()[before:]
    assert json.loads(line)["status"] == "400"
    assert not handler_calls


def test_a_body_that_stops_arriving_is_408_after_the_read_timeout(local_api, handler_calls):
    server = LocalApiServer(local_api.gateway, read_timeout=0.3).start()
    try:
        with socket.create_connection((server.host, server.port), timeout=5) as sock:
            sock.sendall(_post_head("Content-Length: 40") + b'{"name": ')
            started = time.monotonic()
            (reply,) = parse_replies(read_to_close(sock))  # the client keeps its side open: the server gives up
        assert reply.status == 408 and 0.25 < time.monotonic() - started < 2
        assert not handler_calls
    finally:
        server.stop()


# -- bodies, keep-alive and pipelining -----------------------------------------------------------------

def test_a_chunked_body_reaches_the_handler_whole(local_api, handler_calls):
    body = b'{"name": "chunked"}'
    data = _post_head("Transfer-Encoding: chunked") + b"4;ext=1\r\n" + body[:4] + b"\r\n" + \
        b"%x\r\n" % (len(body) - 4) + body[4:] + b"\r\n0\r\nX-Trailer: t\r\n\r\n"
    (reply,) = _raw(local_api, data, half_close=True)
    assert reply.status == 201 and reply.json()["name"] == "chunked"
    assert handler_calls[0]["body"] == body.decode()


def test_expect_100_continue_is_answered_before_the_body_is_sent(local_api):
    body = b'{"name": "expected"}'
    with socket.create_connection((local_api.server.host, local_api.server.port), timeout=5) as sock:
        sock.sendall(_post_head(f"Content-Length: {len(body)}\r\nExpect: 100-continue"))
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        sock.shutdown(socket.SHUT_WR)
        (reply,) = parse_replies(read_to_close(sock))
    assert reply.status == 201


def test_pipelined_requests_are_answered_in_order_on_one_connection(local_api):
    data = (b"OPTIONS /v1/items HTTP/1.1\r\nHost: x\r\nOrigin: " + ORIGIN.encode() + b"\r\n\r\n"
            b"GET /v1/nothing-here HTTP/1.1\r\nHost: x\r\n\r\n"
            b"\r\nOPTIONS /v1/items/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    replies = _raw(local_api, data)
    assert [r.status for r in replies] == [204, 403, 204]
    assert "connection" not in replies[0].headers and replies[2].headers["connection"] == "close"


@pytest.mark.parametrize("connection,kept", [("", False), ("Connection: keep-alive\r\n", True)])
def test_http_1_0_keeps_the_connection_only_when_asked(local_api, connection, kept):
    with socket.create_connection((local_api.server.host, local_api.server.port), timeout=5) as sock:
        sock.sendall(f"OPTIONS /v1/items HTTP/1.0\r\n{connection}\r\n".encode())
        if kept:
            reply = sock.recv(65536)
            assert b"Connection: keep-alive\r\n" in reply
            sock.sendall(b"OPTIONS /v1/items HTTP/1.0\r\n\r\n")
        replies = parse_replies((reply if kept else b"") + read_to_close(sock))
    assert [r.status for r in replies] == [204] * (2 if kept else 1)
    assert replies[-1].headers["connection"] == "close"


def test_an_absolute_form_target_is_served_as_its_path(local_api):
    (reply,) = _raw(local_api, b"OPTIONS http://localhost/v1/items HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert reply.status == 204
