"""HTTP/1.1 request framing on bytes (blueprint.local.gateway.http11), without sockets."""
from __future__ import annotations

import pytest

from blueprint.local.gateway import http11
from blueprint.local.gateway.http11 import ChunkedBody, ProtocolError, parse_head


def _head(text: str) -> http11.Head:
    data = text.replace("\n", "\r\n").encode("latin-1")
    assert http11.head_end(data) == len(data)
    return parse_head(data)


def test_a_head_keeps_names_as_sent_and_values_trimmed():
    head = _head("GET /v1/items?limit=2 HTTP/1.1\nHost: h\nX-Api-Key:  k \nX-Empty:\n\n")
    assert (head.method, head.target, head.version) == ("GET", "/v1/items?limit=2", "HTTP/1.1")
    assert head.headers == [("Host", "h"), ("X-Api-Key", "k"), ("X-Empty", "")]
    assert head.keep_alive and not head.chunked and head.content_length == 0


def test_bare_line_feeds_end_a_head_too():
    data = b"GET / HTTP/1.1\nHost: h\n\nrest"
    assert http11.head_end(data) == len(data) - 4
    assert parse_head(data[:-4]).headers == [("Host", "h")]


@pytest.mark.parametrize("version,connection,kept", [
    ("HTTP/1.1", "", True), ("HTTP/1.1", "Connection: close\n", False), ("HTTP/1.1", "Connection: Keep-Alive, Close\n", False),
    ("HTTP/1.0", "", False), ("HTTP/1.0", "Connection: keep-alive\n", True), ("HTTP/1.2", "", True),
])
def test_keep_alive_follows_the_version_and_the_connection_header(version, connection, kept):
    assert _head(f"GET / {version}\nHost: h\n{connection}\n").keep_alive is kept


def test_an_absolute_form_target_is_reduced_to_its_path_and_query():
    assert _head("GET http://example.com/v1/items?x=1 HTTP/1.1\nHost: h\n\n").target == "/v1/items?x=1"
    assert _head("GET HTTPS://example.com HTTP/1.1\nHost: h\n\n").target == "/"
    assert _head("GET http://example.com?x=1 HTTP/1.1\nHost: h\n\n").target == "/?x=1"


def test_framing_content_length_chunked_and_expect():
    assert _head("POST / HTTP/1.1\nHost: h\nContent-Length: 12, 12\n\n").content_length == 12
    head = _head("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: Chunked\nExpect: 100-Continue\n\n")
    assert head.chunked and head.expect_continue
    assert not _head("POST / HTTP/1.0\nContent-Length: 1\nExpect: 100-continue\n\n").expect_continue


@pytest.mark.parametrize("text,status", [
    ("GET / HTTP/1.1\nHost: a\nHost: b\n\n", 400),
    ("GET / HTTP/1.1\nHost : h\n\n", 400),
    ("GET / HTTP/1.1\nHost: h\nX: a\x01b\n\n", 400),
    ("GET  / HTTP/1.1\nHost: h\n\n", 400),
    ("GET / HTTP/3.0\nHost: h\n\n", 505),
    ("POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n", 400),
    ("POST / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked, gzip\n\n", 501),
    ("POST / HTTP/1.1\nHost: h\nContent-Length: -1\n\n", 400),
])
def test_what_cannot_be_served_says_its_status(text, status):
    with pytest.raises(ProtocolError) as raised:
        _head(text)
    assert raised.value.status == status and raised.value.message


def test_a_chunked_body_is_decoded_however_its_bytes_arrive():
    wire = b"HEAD" + b"3\r\nabc\r\n10;name=value\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\nNEXT"
    for step in (1, 2, 7, len(wire)):
        buf, decoder, done = bytearray(b"HEAD"), ChunkedBody(4, limit=1000), False
        for i in range(4, len(wire), step):
            buf += wire[i:i + step]
            done = decoder.feed(buf)
            if done:
                break
        assert done and decoder.body() == b"abc0123456789abcdef"
        assert bytes(buf[decoder.pos:decoder.pos + 4]) == b"NEXT"[:len(buf) - decoder.pos]


def test_a_chunked_body_over_the_limit_stops_at_the_size_line():
    decoder = ChunkedBody(0, limit=10)
    assert decoder.feed(bytearray(b"b\r\n")) and decoder.too_large


@pytest.mark.parametrize("wire", [b"x\r\n", b"3\r\nabcd\r\n", b"-1\r\n", b"1" * 20 + b"\r\n", b"3" * 9000])
def test_a_malformed_chunked_body_is_a_400(wire):
    with pytest.raises(ProtocolError) as raised:
        ChunkedBody(0, limit=10**9).feed(bytearray(wire))
    assert raised.value.status == 400


def test_an_oversized_head_is_414_without_a_line_end_else_431():
    assert http11.refuse_oversized_head(b"a" * (http11.HEAD_LIMIT + 1)).status == 414
    assert http11.refuse_oversized_head(b"GET / HTTP/1.1\r\n" + b"a" * http11.HEAD_LIMIT).status == 431


def test_the_response_is_one_buffer_with_its_length_and_connection():
    data = http11.response_bytes(201, [("Content-Length", "99"), ("Connection", "x"), ("ETag", '"1"')], b"{}",
                                 close=True)
    assert data == b'HTTP/1.1 201 Created\r\nETag: "1"\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'
    head_only = http11.response_bytes(200, [], b"abc", close=False, http10_keep_alive=True, head_only=True)
    assert head_only == b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n"
