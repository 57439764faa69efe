"""blueprint/local/fast.py, the local AWS's HTTP layer: keep-alive and framing, behaviour only (no timings)."""
from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from blueprint.local import fast
from blueprint.local import process as local

REGION = "eu-west-1"
AUTH = ("AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0")


def _ddb_headers(action: str) -> dict[str, str]:
    return {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"DynamoDB_20120810.{action}",
            "Authorization": AUTH.format(region=REGION, service="dynamodb"), "X-Amz-Date": "20240101T000000Z"}


def _hostport(endpoint: str) -> tuple[str, int]:
    u = urlsplit(endpoint)
    return u.hostname, u.port


def _raw(endpoint: str, action: str, body: bytes, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    host, port = _hostport(endpoint)
    head = f"POST / {version}\r\nHost: {host}:{port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in _ddb_headers(action).items())
    return (head + extra + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _read_response(f) -> tuple[int, dict[str, str], bytes]:
    """One HTTP response from a socket file (Content-Length or chunked framing)."""
    status = int(f.readline().split()[1])
    headers: dict[str, str] = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        k, v = line.decode().split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        return status, headers, f.read(int(headers["content-length"]))
    body = b""
    if headers.get("transfer-encoding") == "chunked":
        while (size := int(f.readline().strip(), 16)):
            body += f.read(size)
            f.readline()
        f.readline()
    return status, headers, body


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A local AWS of this module's own, as blueprint.local starts it."""
    state_dir = tmp_path_factory.mktemp("local-aws")
    yield local.ensure_running(state_dir)
    local.stop(state_dir)


@pytest.fixture
def client(endpoint):
    return lambda service: boto3.client(service, region_name=REGION, **local.client_kwargs(endpoint))


@pytest.fixture
def table(client):
    ddb = client("dynamodb")
    name = "speed-keepalive"
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "n": {"N": "1"}})
    yield name
    ddb.delete_table(TableName=name)


def test_two_requests_share_one_connection(endpoint, table):
    conn = http.client.HTTPConnection(*_hostport(endpoint), timeout=10)
    body = json.dumps({"TableName": table, "Key": {"id": {"S": "a"}}})
    conn.request("POST", "/", body=body, headers=_ddb_headers("GetItem"))
    first = conn.getresponse()
    assert first.status == 200 and first.version == 11
    assert first.getheader("Connection") is None
    assert json.loads(first.read())["Item"]["n"] == {"N": "1"}
    sock = conn.sock
    conn.request("POST", "/", body=body, headers=_ddb_headers("GetItem"))
    second = conn.getresponse()
    assert second.status == 200
    assert json.loads(second.read())["Item"]["id"] == {"S": "a"}
    assert conn.sock is sock  # not reconnected
    conn.close()


def test_pipelined_requests_are_answered_in_order(endpoint, table):
    body = json.dumps({"TableName": table, "Key": {"id": {"S": "a"}}}).encode()
    with socket.create_connection(_hostport(endpoint), timeout=10) as s, s.makefile("rb") as f:
        s.sendall(_raw(endpoint, "GetItem", body) + _raw(endpoint, "ListTables", b"{}"))
        status1, _, body1 = _read_response(f)
        status2, _, body2 = _read_response(f)
    assert status1 == 200 and json.loads(body1)["Item"]["id"] == {"S": "a"}
    assert status2 == 200 and table in json.loads(body2)["TableNames"]


def test_an_unread_request_body_does_not_spill_into_the_next_request(endpoint):
    """moto's dashboard (GET /moto-api/) ignores a body: the server must skip it to find the next request line."""
    host, port = _hostport(endpoint)
    junk = b"GET /not-a-request HTTP/1.1\r\n\r\n" * 3
    first = (f"GET /moto-api/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
             f"Content-Length: {len(junk)}\r\n\r\n").encode() + junk
    with socket.create_connection((host, port), timeout=10) as s, s.makefile("rb") as f:
        s.sendall(first + _raw(endpoint, "ListTables", b"{}"))
        status1, _, _ = _read_response(f)
        status2, headers2, body2 = _read_response(f)
    assert status1 == 200
    assert status2 == 200 and "TableNames" in json.loads(body2)
    assert headers2.get("connection") is None


def test_a_chunked_request_body_is_read_and_the_connection_kept(endpoint, table):
    body = json.dumps({"TableName": table, "Key": {"id": {"S": "a"}}}).encode()
    host, port = _hostport(endpoint)
    head = f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in _ddb_headers("GetItem").items()) + "Transfer-Encoding: chunked\r\n\r\n"
    chunked = head.encode() + b"%x\r\n%s\r\n" % (10, body[:10]) + b"%x\r\n%s\r\n0\r\n\r\n" % (
        len(body) - 10, body[10:])
    with socket.create_connection((host, port), timeout=10) as s, s.makefile("rb") as f:
        s.sendall(chunked + _raw(endpoint, "ListTables", b"{}"))
        status1, _, body1 = _read_response(f)
        status2, _, body2 = _read_response(f)
    assert status1 == 200 and json.loads(body1)["Item"]["n"] == {"N": "1"}
    assert status2 == 200 and table in json.loads(body2)["TableNames"]


@pytest.mark.parametrize("version, extra", [("HTTP/1.1", "Connection: close\r\n"), ("HTTP/1.0", "")])
def test_close_is_honoured(endpoint, version, extra):
    with socket.create_connection(_hostport(endpoint), timeout=10) as s, s.makefile("rb") as f:
        s.sendall(_raw(endpoint, "ListTables", b"{}", extra=extra, version=version))
        status, headers, body = _read_response(f)
        assert status == 200 and "TableNames" in json.loads(body)
        assert headers["connection"] == "close"
        assert f.read() == b""  # the server closed its end


def test_an_error_answer_keeps_the_connection_usable(endpoint):
    conn = http.client.HTTPConnection(*_hostport(endpoint), timeout=10)
    conn.request("POST", "/", body=json.dumps({"TableName": "no-such-table", "Key": {"id": {"S": "a"}}}),
                 headers=_ddb_headers("GetItem"))
    resp = conn.getresponse()
    assert resp.status == 400 and "ResourceNotFoundException" in resp.read().decode()
    conn.request("POST", "/", body="{}", headers=_ddb_headers("ListTables"))
    resp = conn.getresponse()
    assert resp.status == 200 and "TableNames" in json.loads(resp.read())
    conn.close()


def test_head_then_get_on_one_connection(endpoint, client):
    s3 = client("s3")
    s3.create_bucket(Bucket="speed-head", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="speed-head", Key="k", Body=b"0123456789")
    session = boto3.session.Session()
    one = session.client("s3", region_name=REGION, **local.client_kwargs(endpoint))
    assert one.head_object(Bucket="speed-head", Key="k")["ContentLength"] == 10
    assert one.get_object(Bucket="speed-head", Key="k")["Body"].read() == b"0123456789"
    assert one.head_object(Bucket="speed-head", Key="k")["ContentLength"] == 10
    s3.delete_object(Bucket="speed-head", Key="k")
    s3.delete_bucket(Bucket="speed-head")


def test_boto3_calls_reuse_one_connection(endpoint, table):
    ddb = boto3.session.Session().client("dynamodb", region_name=REGION, **local.client_kwargs(endpoint))
    socks = set()
    for _ in range(5):
        assert ddb.get_item(TableName=table, Key={"id": {"S": "a"}})["Item"]["n"] == {"N": "1"}
        pool = ddb._endpoint.http_session._manager.connection_from_url(endpoint)
        socks.update(id(c.sock) for c in list(pool.pool.queue) if c is not None and c.sock is not None)
    assert len(socks) == 1


def test_the_fast_dispatcher_routes_like_moto():
    plain = DomainDispatcherApplication(create_backend_app)
    quick = fast.fast_dispatcher(DomainDispatcherApplication)(create_backend_app)
    for host in ("dynamodb", "moto_api", "s3.eu-west-1.amazonaws.com", "cloudformation.eu-west-1.amazonaws.com",
                 "lambda.eu-west-1.amazonaws.com", "dynamodbstreams", "nothing.example"):
        assert quick.get_backend_for_host(host) == plain.get_backend_for_host(host)
        assert quick.get_backend_for_host(host) == plain.get_backend_for_host(host)  # from the memo
    assert "nothing.example" not in quick._backend_for_host  # empty answers are not memoised
    env = {"PATH_INFO": "/", "REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem",
           "HTTP_AUTHORIZATION": AUTH.format(region=REGION, service="dynamodb")}
    app = quick.get_application(dict(env))
    assert app is quick.get_application(dict(env)) and app.service == "dynamodb"
    assert quick.get_application({"PATH_INFO": "/moto-api/"}).service == "moto_api"
