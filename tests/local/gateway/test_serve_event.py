"""The Lambda proxy event, compared with a real API Gateway REST event; proxy responses; 502 and 504."""
from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path

import pytest

from blueprint.local.gateway import events
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.core import ApiKeyInfo, Gateway, Request
from blueprint.local.gateway.runtime import FunctionError, FunctionTimeout, IntegrationTimeout

SAMPLE = json.loads((Path(__file__).parent / "apigw_rest_event.json").read_text())
KEY = "Gx7vQm2LpR9sT4wY6zA1bC3dE5fH8jK0nP2qS4uW"
# Maps whose keys are the request's own (header names, parameters): only their value types are compared.
FREE_KEYS = {"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
             "pathParameters", "stageVariables"}


class CapturingRuntime:
    """Stands in for the function: records the event, answers what the test says."""

    def __init__(self, answer=None, error: Exception | None = None):
        self.events: list[dict] = []
        self.answer = answer if answer is not None else {"statusCode": 200, "body": "{}"}
        self.error = error

    def invoke(self, event, timeout_s, queued_since=None):
        self.events.append(event)
        if self.error:
            raise self.error
        return self.answer


def _gateway(api, runtime):
    keys = [ApiKeyInfo(value=KEY, key_id="q1w2e3r4t5", logical_id=next(iter(api.api_keys)))]
    return Gateway(api, runtime, keys=keys, api_id="a1b2c3d4e5", account_id="123456789012",
                   access_log=AccessLog(api.access_log_format, io.StringIO()), throttling=False,
                   function_log=lambda text: None)


def _same_shape(ours, theirs, where="event"):
    assert type(ours) is type(theirs), f"{where}: {type(ours).__name__} here, {type(theirs).__name__} in AWS's event"
    if isinstance(theirs, dict):
        name = where.rsplit(".", 1)[-1]
        if name in FREE_KEYS:
            sample = next(iter(theirs.values()))
            for key, value in ours.items():
                _same_shape(value, sample, f"{where}[{key!r}]")
            return
        assert set(ours) == set(theirs), f"{where}: keys differ: only here {set(ours) - set(theirs)}, " \
                                         f"only in AWS's {set(theirs) - set(ours)}"
        for key in theirs:
            _same_shape(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(theirs, list):
        for i, value in enumerate(ours):
            _same_shape(value, theirs[0], f"{where}[{i}]")


def _get(dev_api, target="/v1/items/3f1c5a8e-2b4d-4c6e-9f10-a1b2c3d4e5f6?fields=name", body=b"", headers=()):
    runtime = CapturingRuntime()
    answer = _gateway(dev_api, runtime).handle(Request(
        "GET", target, [("accept", "application/json"), ("Host", "127.0.0.1:8080"), ("User-Agent", "curl/8.5.0"),
                        ("x-api-key", KEY), *headers], body=body, source_ip="127.0.0.1", host="127.0.0.1:8080"))
    assert answer.status == 200
    return runtime.events[0]


def test_the_event_has_the_shape_of_api_gateways_field_by_field(dev_api):
    _same_shape(_get(dev_api), SAMPLE)


def test_the_event_carries_what_api_gateway_puts_in_it(dev_api):
    before = int(time.time() * 1000)
    event = _get(dev_api)
    ctx = event["requestContext"]
    assert event["resource"] == ctx["resourcePath"] == "/items/{id}"
    assert event["path"] == "/items/3f1c5a8e-2b4d-4c6e-9f10-a1b2c3d4e5f6"
    assert ctx["path"] == "/v1" + event["path"] and ctx["stage"] == dev_api.stage
    assert event["httpMethod"] == ctx["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "3f1c5a8e-2b4d-4c6e-9f10-a1b2c3d4e5f6"}
    assert event["queryStringParameters"] == {"fields": "name"}
    assert event["multiValueQueryStringParameters"] == {"fields": ["name"]}
    assert ctx["identity"]["apiKey"] == KEY and ctx["identity"]["apiKeyId"] == "q1w2e3r4t5"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert before <= ctx["requestTimeEpoch"] <= int(time.time() * 1000)
    assert ctx["accountId"] == "123456789012" and ctx["apiId"] == "a1b2c3d4e5" and ctx["protocol"] == "HTTP/1.1"
    assert event["body"] is None and event["isBase64Encoded"] is False and event["stageVariables"] is None


def test_absent_query_string_and_repeated_values_are_as_api_gateway_sends_them(dev_api):
    event = _get(dev_api, "/v1/items/x")
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    event = _get(dev_api, "/v1/items/x?a=1&a=2", headers=[("X-Multi", "one"), ("X-Multi", "two")])
    assert event["queryStringParameters"] == {"a": "2"}  # the last value, as API Gateway does
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["headers"]["X-Multi"] == "two" and event["multiValueHeaders"]["X-Multi"] == ["one", "two"]


def test_a_text_body_is_passed_as_is_and_a_binary_one_base64(dev_api):
    event = _get(dev_api, body=b'{"a": 1}', headers=[("Content-Type", "application/json")])
    assert event["body"] == '{"a": 1}' and event["isBase64Encoded"] is False
    raw = bytes(range(256))
    event = _get(dev_api, body=raw, headers=[("Content-Type", "application/octet-stream")])
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == raw


# -- proxy responses ------------------------------------------------------------------------------

def test_headers_and_multi_value_headers_merge():
    status, headers, body = events.parse_response({
        "statusCode": 201, "headers": {"A": "1", "B": "x"}, "multiValueHeaders": {"B": ["2", "3"]}, "body": "hi"})
    assert status == 201 and body == b"hi"
    assert sorted(headers) == [("A", "1"), ("B", "2"), ("B", "3")]


def test_a_base64_body_is_decoded():
    assert events.parse_response({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True})[2] == b"\x00\x01"


@pytest.mark.parametrize("answer", [
    None, "text", {"body": "no status"}, {"statusCode": "abc"}, {"statusCode": 200, "body": {"a": 1}},
    {"statusCode": 200, "headers": {"A": ["list"]}}, {"statusCode": 200, "unexpected": 1},
    {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
])
def test_a_malformed_proxy_response_is_a_502_with_cors_headers(dev_api, answer):
    gw = _gateway(dev_api, CapturingRuntime(answer=answer if answer is not None else 0))
    reply = gw.handle(Request("GET", "/v1/items", [("x-api-key", KEY)]))
    assert reply.status == 502
    assert json.loads(reply.body)["error"] == {"code": "DEFAULT_5XX", "message": "Internal server error"}
    assert dict(reply.headers)["Access-Control-Allow-Origin"] == "http://localhost:3000"


@pytest.mark.parametrize("error,status,rtype", [
    (FunctionError("ZeroDivisionError: division by zero"), 502, "DEFAULT_5XX"),
    (FunctionTimeout("Task timed out after 10.00 seconds"), 502, "DEFAULT_5XX"),
    (IntegrationTimeout("no answer within 29 s"), 504, "INTEGRATION_TIMEOUT"),
])
def test_function_failures_and_the_integration_timeout(dev_api, error, status, rtype):
    reply = _gateway(dev_api, CapturingRuntime(error=error)).handle(Request("GET", "/v1/items", [("x-api-key", KEY)]))
    assert reply.status == status
    assert json.loads(reply.body)["error"]["code"] == rtype
    assert "Access-Control-Allow-Origin" in dict(reply.headers)
