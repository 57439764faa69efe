"""Every error path: status, the JSON error body, and headers (CORS, Vary, Allow, ETag, Retry-After)."""
from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from events import ALLOWED_ORIGIN, LambdaContext, api_event, body, header

MISSING = "00000000-0000-4000-8000-000000000000"


def assert_error(resp, status, code=None):
    assert resp["statusCode"] == status, resp
    data = body(resp)
    assert set(data) == {"error", "requestId"}
    assert set(data["error"]) == {"code", "message"}
    assert isinstance(data["error"]["message"], str) and data["error"]["message"]
    assert isinstance(data["requestId"], str) and data["requestId"]
    if code:
        assert data["error"]["code"] == code
    assert header(resp, "Content-Type") == "application/json"
    assert header(resp, "Vary") == "Origin"
    assert header(resp, "Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    return data


def create(api, data=None):
    resp = api(api_event("POST", "/items", body=data or {"name": "x"}))
    assert resp["statusCode"] == 201
    return body(resp)


def test_error_carries_api_gateway_request_id(api):
    resp = api(api_event("GET", f"/items/{MISSING}", request_id="req-abc-123"))
    assert assert_error(resp, 404, "NOT_FOUND")["requestId"] == "req-abc-123"


@pytest.mark.parametrize("raw, code", [
    ("{not json", "INVALID_JSON"),
    ('{"a": NaN}', "INVALID_JSON"),
    ('{"a": Infinity}', "INVALID_JSON"),
    ("[1, 2]", "NOT_AN_OBJECT"),
    ('"text"', "NOT_AN_OBJECT"),
    ("null", "NOT_AN_OBJECT"),
    ("", "INVALID_JSON"),
    ('{"": 1}', "INVALID_ITEM"),
    ('{"a": {"": 1}}', "INVALID_ITEM"),
    ('{"a": "\\ud800"}', "INVALID_ITEM"),
    ('{"a": 1e400}', "INVALID_ITEM"),
    ('{"a": 1.23456789012345678901234567890123456789}', "INVALID_ITEM"),
    ('{"a": 12345678901234567890.5}', "INVALID_ITEM"),  # would come back as 1.2345678901234567e+19
    ('{"a": [0.1, {"b": 0.30000000000000000001}]}', "INVALID_ITEM"),
    ("[" * 5000 + "]" * 5000, "INVALID_JSON"),
])
def test_bad_bodies_are_400(api, raw, code):
    assert_error(api(api_event("POST", "/items", body=raw)), 400, code)


def test_too_deep_for_dynamodb_is_400(api):
    deep = '{"a":' * 40 + "1" + "}" * 40
    assert_error(api(api_event("POST", "/items", body=deep)), 400, "INVALID_ITEM")


def test_deep_but_storable_is_201(api):
    deep = '{"a":' * 30 + "1" + "}" * 30
    assert api(api_event("POST", "/items", body=deep))["statusCode"] == 201


@pytest.mark.parametrize("number", ["0.1", "-2.5E-7", "3.141592653589793", "1.7976931348623157E+125",
                                    "12345678901234567890", "-98765432109876543210987654321098765432", "1E+125"])
def test_numbers_come_back_exactly(api, number):
    raw = '{"n": ' + number + "}"
    created = api(api_event("POST", "/items", body=raw))
    assert created["statusCode"] == 201, created
    got = api(api_event("GET", f"/items/{body(created)['id']}"))
    for resp in (created, got):
        assert json.loads(resp["body"], parse_float=Decimal, parse_int=Decimal)["n"] == Decimal(number)


def test_invalid_utf8_body_is_400(api):
    ev = api_event("POST", "/items", body=b'{"a": "\xff\xfe"}')
    assert_error(api(ev), 400, "INVALID_JSON")


def test_invalid_base64_is_400(api):
    ev = api_event("POST", "/items", body="{}")
    ev["body"], ev["isBase64Encoded"] = "!!!not base64", True
    assert_error(api(ev), 400, "INVALID_JSON")


def test_lone_surrogate_in_text_body_is_400(api):
    ev = api_event("POST", "/items", body="{}")
    ev["body"] = '{"a": "\udcff"}'
    assert_error(api(ev), 400, "INVALID_JSON")


@pytest.mark.parametrize("path", ["/items/not-a-uuid", "/items/00000000-0000-4000-8000-00000000000G",
                                  "/items/00000000-0000-4000-8000-000000000000X", "/items/ABCDEF00-0000-4000-8000-000000000000"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_bad_ids_are_400(api, method, path):
    assert_error(api(api_event(method, path, body={"a": 1} if method == "PUT" else None)), 400, "INVALID_ID")


@pytest.mark.parametrize("query", [
    {"limit": "0"}, {"limit": "101"}, {"limit": "abc"}, {"limit": "-1"}, {"limit": "1.5"}, {"limit": ""},
    {"limit": ["1", "2"]}, {"cursor": "garbage!"}, {"cursor": base64.urlsafe_b64encode(b'{"id":"x"}').decode()},
    {"cursor": base64.urlsafe_b64encode(b'{"id":"00000000-0000-4000-8000-000000000000","x":1}').decode()},
    {"cursor": base64.urlsafe_b64encode(b"[1]").decode()}, {"cursor": ["a", "b"]},
])
def test_bad_queries_are_400(api, query):
    assert_error(api(api_event("GET", "/items", query=query)), 400, "INVALID_QUERY")


def test_unknown_query_parameters_are_ignored(api):
    assert api(api_event("GET", "/items", query={"foo": "bar"}))["statusCode"] == 200


def test_unknown_path_is_404(api):
    assert_error(api(api_event("GET", "/nothing/here")), 404, "NOT_FOUND")
    assert_error(api(api_event("GET", f"/items/{MISSING}/sub")), 404, "NOT_FOUND")


@pytest.mark.parametrize("method, path, allow", [
    ("PATCH", "/items", "GET, POST, OPTIONS"),
    ("DELETE", "/items", "GET, POST, OPTIONS"),
    ("POST", f"/items/{MISSING}", "DELETE, GET, PUT, OPTIONS"),
    ("HEAD", "/items", "GET, POST, OPTIONS"),
])
def test_wrong_method_is_405_with_allow(api, method, path, allow):
    resp = api(api_event(method, path, body={"a": 1}))
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert header(resp, "Allow") == allow


def test_create_conflict_is_409(api):
    api.store.new_id = lambda: MISSING
    create(api)
    assert_error(api(api_event("POST", "/items", body={"b": 2})), 409, "CONFLICT")


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', "garbage", '"1x"'])
def test_if_match_mismatch_is_412_with_current_etag(api, method, if_match):
    item = create(api)
    ev = api_event(method, f"/items/{item['id']}", body={"a": 1} if method == "PUT" else None,
                   headers={"If-Match": if_match})
    resp = api(ev)
    assert_error(resp, 412, "PRECONDITION_FAILED")
    assert header(resp, "ETag") == '"1"'
    # and nothing changed
    assert body(api(api_event("GET", f"/items/{item['id']}")))["version"] == 1


def test_stale_etag_after_concurrent_update_is_412(api):
    item = create(api)
    first = api(api_event("PUT", f"/items/{item['id']}", body={"w": 1}, headers={"If-Match": '"1"'}))
    assert first["statusCode"] == 200
    second = api(api_event("PUT", f"/items/{item['id']}", body={"w": 2}, headers={"If-Match": '"1"'}))
    assert_error(second, 412)


def test_empty_or_huge_if_match_is_400(api):
    item = create(api)
    assert_error(api(api_event("DELETE", f"/items/{item['id']}", headers={"If-Match": " , "})), 400, "INVALID_HEADER")
    many = ", ".join(f'"{i}"' for i in range(50))
    assert_error(api(api_event("DELETE", f"/items/{item['id']}", headers={"If-Match": many})), 400, "INVALID_HEADER")


@pytest.mark.parametrize("base64_body", [False, True])
def test_body_over_max_is_413(api, base64_body):
    big = '{"a": "' + "x" * 70_000 + '"}'
    assert_error(api(api_event("POST", "/items", body=big, base64_body=base64_body)), 413, "PAYLOAD_TOO_LARGE")


def test_body_at_max_is_accepted(api):
    pad = 65536 - len('{"a": ""}')
    assert api(api_event("POST", "/items", body='{"a": "' + "x" * pad + '"}'))["statusCode"] == 201


def test_multibyte_body_size_counts_bytes(api):
    big = '{"a": "' + "☃" * 22_000 + '"}'  # 22k characters, 66k bytes
    assert_error(api(api_event("POST", "/items", body=big)), 413)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml", "application/json; charset=latin-1",
                                          "multipart/form-data; boundary=x", ""])
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_not_json_content_type_is_415(api, content_type, method):
    path = "/items" if method == "POST" else f"/items/{MISSING}"
    assert_error(api(api_event(method, path, body={"a": 1}, content_type=content_type)), 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"])
@pytest.mark.parametrize("operation", ["get", "list", "create", "replace", "delete"])
def test_throttling_is_503_with_retry_after(api, monkeypatch, code, operation):
    def throttled(*_a, **_k):
        raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "Op")

    monkeypatch.setattr(api.store, operation, throttled)
    method, path = {"get": ("GET", f"/items/{MISSING}"), "list": ("GET", "/items"), "create": ("POST", "/items"),
                    "replace": ("PUT", f"/items/{MISSING}"), "delete": ("DELETE", f"/items/{MISSING}")}[operation]
    resp = api(api_event(method, path, body={"a": 1} if method in ("POST", "PUT") else None))
    data = assert_error(resp, 503, "THROTTLED")
    assert header(resp, "Retry-After") == "1"
    assert "slow down" not in data["error"]["message"]


def test_real_client_throttle_through_botocore_is_503(api, monkeypatch):
    """The ClientError as botocore raises it after its retries, not a hand-made one."""
    from botocore.stub import Stubber

    stub = Stubber(api.store.client)
    for _ in range(3):
        stub.add_client_error("get_item", service_error_code="ProvisionedThroughputExceededException", http_status_code=400)
    with stub:
        resp = api(api_event("GET", f"/items/{MISSING}"))
    assert_error(resp, 503, "THROTTLED")


def test_timeout_is_503(api, monkeypatch):
    def slow(*_a, **_k):
        raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    monkeypatch.setattr(api.store, "get", slow)
    resp = api(api_event("GET", f"/items/{MISSING}"))
    assert_error(resp, 503, "SERVICE_UNAVAILABLE")
    assert header(resp, "Retry-After") == "1"


def test_dynamodb_item_size_validation_is_413(api, monkeypatch):
    def too_big(*_a, **_k):
        raise ClientError({"Error": {"Code": "ValidationException",
                                     "Message": "Item size has exceeded the maximum allowed size"}}, "PutItem")

    monkeypatch.setattr(api.store, "create", too_big)
    assert_error(api(api_event("POST", "/items", body={"a": 1})), 413)


@pytest.mark.parametrize("exc", [
    RuntimeError("secret-internal-detail /var/task/app.py line 3"),
    ClientError({"Error": {"Code": "AccessDeniedException", "Message": "secret-internal-detail arn:aws:..."}}, "GetItem"),
    KeyError("secret-internal-detail"),
])
def test_unexpected_is_500_with_request_id_and_nothing_internal(api, monkeypatch, exc):
    def boom(*_a, **_k):
        raise exc

    monkeypatch.setattr(api.store, "get", boom)
    resp = api(api_event("GET", f"/items/{MISSING}", request_id="rid-500"))
    data = assert_error(resp, 500, "INTERNAL_ERROR")
    assert data["requestId"] == "rid-500"
    assert "secret" not in resp["body"] and "Traceback" not in resp["body"]


def test_failure_outside_the_routes_is_500_with_cors(api, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("secret resolver failure")

    monkeypatch.setattr(api.app.app, "resolve", broken)
    resp = api(api_event("GET", "/items"))
    data = assert_error(resp, 500, "INTERNAL_ERROR")
    assert "secret" not in resp["body"] and data["requestId"]


@pytest.mark.parametrize("event", [
    {}, {"httpMethod": "GET"}, {"path": "/items"}, {"httpMethod": 1, "path": "/items"}, {"httpMethod": "GET", "path": None},
])
def test_not_a_proxy_event_is_400(handler_app, event):
    resp = handler_app.lambda_handler(event, LambdaContext())
    assert resp["statusCode"] == 400
    assert body(resp)["requestId"] == LambdaContext().aws_request_id
    assert header(resp, "Vary") == "Origin"


def test_null_maps_from_api_gateway_are_fine(api):
    ev = api_event("GET", "/items", origin=None)
    ev.update(headers=None, multiValueHeaders=None, queryStringParameters=None,
              multiValueQueryStringParameters=None, pathParameters=None, requestContext=None)
    resp = api(ev)
    assert resp["statusCode"] == 200 and header(resp, "Vary") == "Origin"
