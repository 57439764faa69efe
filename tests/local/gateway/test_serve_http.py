"""The local API over HTTP: API keys, CORS preflight, gateway responses, the handler, the access log."""
from __future__ import annotations

import json

import pytest

from tests.local.gateway.client import call
from tests.local.gateway.conftest import KEY

ORIGIN = "http://localhost:3000"  # envs/dev.yaml's allowed origin


def _gateway_cors(dev_api, response_type: str = "DEFAULT_4XX") -> dict[str, str]:
    params = dev_api.gateway_responses[response_type].parameters
    return {k.removeprefix("gatewayresponse.header.").lower(): v.strip("'") for k, v in params.items()}


@pytest.fixture(scope="module")
def item(local_api) -> dict:
    reply = call(local_api.url, "POST", "/items", headers={"x-api-key": KEY, "Content-Type": "application/json"},
                 body=json.dumps({"name": "widget"}))
    assert reply.status == 201, reply.body
    return reply.json()


# -- API keys ------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"x-api-key": "not-the-key"}], ids=["missing", "wrong"])
def test_a_method_that_needs_the_key_refuses_403_with_cors_headers(local_api, dev_api, item, headers):
    reply = call(local_api.url, "GET", f"/items/{item['id']}", headers={"Origin": ORIGIN, **headers})
    assert reply.status == 403
    assert reply.headers["x-amzn-errortype"] == "ForbiddenException"
    for name, value in _gateway_cors(dev_api).items():
        assert reply.headers[name] == value
    body = reply.json()  # shaped by the rendered DEFAULT_4XX template
    assert body["error"] == {"code": "INVALID_API_KEY", "message": "Forbidden"}
    assert body["requestId"] == reply.headers["x-amzn-requestid"]


def test_the_right_key_reaches_the_handler(local_api, item):
    reply = call(local_api.url, "GET", f"/items/{item['id']}", headers={"x-api-key": KEY, "Origin": ORIGIN})
    assert reply.status == 200
    assert reply.json()["name"] == "widget"
    assert reply.headers["etag"] == '"1"'
    assert reply.headers["access-control-allow-origin"] == ORIGIN  # the handler's own CORS headers


def test_the_key_header_name_is_case_insensitive(local_api, item):
    assert call(local_api.url, "GET", f"/items/{item['id']}", headers={"X-API-Key": KEY}).status == 200


def test_crud_round_trip_through_the_handler(local_api):
    h = {"x-api-key": KEY, "Content-Type": "application/json"}
    created = call(local_api.url, "POST", "/items", headers=h, body='{"n": 1}')
    assert created.status == 201
    item_id = created.json()["id"]
    assert created.headers["location"] == f"/v1/items/{item_id}"  # requestContext.path carries the stage
    assert call(local_api.url, "PUT", f"/items/{item_id}", headers=h, body='{"n": 2}').json()["n"] == 2
    listed = call(local_api.url, "GET", "/items?limit=100", headers=h).json()
    assert item_id in [i["id"] for i in listed["items"]]
    assert call(local_api.url, "DELETE", f"/items/{item_id}", headers=h).status == 204
    assert call(local_api.url, "GET", f"/items/{item_id}", headers=h).status == 404


# -- preflight -----------------------------------------------------------------------------------

def _preflight_params(dev_api, path: str) -> dict[str, str]:
    (resp,) = dev_api.methods[path]["OPTIONS"].mock.responses
    return {k.removeprefix("method.response.header.").lower(): v.strip("'") for k, v in resp.parameters.items()}


@pytest.mark.parametrize("origin_header", ["Origin", "origin"])  # HTTP/2 browsers send lower-case names
@pytest.mark.parametrize("path", ["/items", "/items/{id}"])
def test_preflight_echoes_an_allowed_origin_with_the_templates_headers(local_api, dev_api, path, origin_header):
    reply = call(local_api.url, "OPTIONS", path.replace("{id}", "abc"),
                 headers={origin_header: ORIGIN, "Access-Control-Request-Method": "GET"})
    assert reply.status == 204
    assert reply.body == b""
    assert reply.headers["access-control-allow-origin"] == ORIGIN
    expected = _preflight_params(dev_api, path)
    assert {"access-control-allow-methods", "access-control-allow-headers", "access-control-max-age"} <= expected.keys()
    for name, value in expected.items():
        assert reply.headers[name] == value
    assert reply.headers["access-control-max-age"] == "600"


@pytest.mark.parametrize("origin_header", ["Origin", "origin"])
def test_preflight_does_not_echo_a_disallowed_origin(local_api, origin_header):
    reply = call(local_api.url, "OPTIONS", "/items", headers={origin_header: "https://evil.example"})
    assert reply.status == 204
    assert "access-control-allow-origin" not in reply.headers
    assert reply.headers["vary"] == "Origin"


def test_preflight_needs_no_key(local_api):
    assert call(local_api.url, "OPTIONS", "/items", headers={"Origin": ORIGIN}).status == 204


# -- API Gateway's own answers -------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [("GET", "/nothing-here"), ("PATCH", "/items"), ("GET", "/items/a/b")])
def test_an_unknown_route_is_missing_authentication_token_403(local_api, dev_api, method, path):
    reply = call(local_api.url, method, path, headers={"x-api-key": KEY, "Origin": ORIGIN})
    assert reply.status == 403
    assert reply.json()["error"] == {"code": "MISSING_AUTHENTICATION_TOKEN", "message": "Missing Authentication Token"}
    assert reply.headers["access-control-allow-origin"] == _gateway_cors(dev_api)["access-control-allow-origin"]


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"origin": "https://evil.example"},
                                     {"Origin": "https://evil.example", "x-api-key": "wrong"}])
def test_a_gateway_response_never_names_a_disallowed_origin(local_api, dev_api, headers):
    for method, path in [("GET", "/items"), ("GET", "/nothing-here")]:
        reply = call(local_api.url, method, path, headers=headers)
        assert reply.status == 403
        assert reply.headers["access-control-allow-origin"] == _gateway_cors(dev_api)["access-control-allow-origin"]
        assert reply.headers["access-control-allow-origin"] == ORIGIN  # the first allowed origin, named statically
        assert "evil.example" not in "".join(reply.headers.values())


def test_a_path_outside_the_stage_is_a_bare_403(local_api):
    base = local_api.url.rsplit("/", 1)[0] + "/v2"
    reply = call(base, "GET", "/items", headers={"x-api-key": KEY})
    assert reply.status == 403
    assert reply.json() == {"message": "Forbidden"}


def test_every_request_writes_one_access_log_line_in_the_stages_format(local_api, access_log, dev_api):
    before = access_log.getvalue().count("\n")
    call(local_api.url, "GET", "/items/00000000-0000-4000-8000-000000000000", headers={"x-api-key": KEY})
    call(local_api.url, "GET", "/items/00000000-0000-4000-8000-000000000000")
    lines = access_log.getvalue().splitlines()[before:]
    assert len(lines) == 2
    ok, refused = (json.loads(line) for line in lines)
    # The same keys as the rendered AccessLogSetting.Format, every $context variable substituted.
    assert set(ok) == set(json.loads(dev_api.access_log_format))
    assert "$context" not in "".join(lines)
    assert ok["status"] == "404" and ok["resourcePath"] == "/items/{id}" and ok["path"] == "/v1/items/00000000-0000-4000-8000-000000000000"
    assert ok["errorType"] == "-" and ok["integrationLatency"] != "-" and ok["apiKeyId"] != "-"
    assert refused["status"] == "403" and refused["errorType"] == "INVALID_API_KEY"
    assert refused["integrationLatency"] == "-" and refused["apiKeyId"] == "-"


def test_cli_serve_reports_a_missing_template_without_a_traceback(tmp_path, capsys):
    from blueprint import cli

    assert cli.main(["--root", str(tmp_path), "serve", "--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert "generated/dev/template.yaml does not exist" in err and "Traceback" not in err


def test_a_body_over_the_payload_limit_is_413_without_being_read(local_api):
    import socket

    from blueprint.local.gateway.core import PAYLOAD_LIMIT_BYTES

    host_port = local_api.url.removeprefix("http://").split("/", 1)[0]
    host, _, port = host_port.partition(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"POST /v1/items HTTP/1.1\r\nHost: {host_port}\r\nx-api-key: {KEY}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {PAYLOAD_LIMIT_BYTES + 1}\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):  # the server answers and closes without waiting for the body
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    assert json.loads(body)["error"]["code"] == "REQUEST_TOO_LARGE"


@pytest.mark.parametrize("sent", ["", KEY[:-1], KEY + "x", KEY.upper(), "ключ", "\udc80", KEY + "\x00"])
def test_only_the_exact_key_is_accepted(dev_api, sent):
    import io

    from blueprint.local.gateway.accesslog import AccessLog
    from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request

    gw = Gateway(dev_api, None, keys=[ApiKeyInfo(KEY, "kid", "ApiKey")], api_id="x", account_id="1",
                 access_log=AccessLog(None, io.StringIO()), throttling=False)
    assert gw.handle(Request("GET", "/v1/items", [("x-api-key", sent)])).status == 403
    assert gw.handle(Request("GET", "/v1/items", [("X-Api-Key", KEY)])).status == 502  # admitted; no function
