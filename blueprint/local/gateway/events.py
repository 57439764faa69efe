"""The Lambda proxy event (REST API, payload format 1.0) and the checks API Gateway makes on the answer.

The event has the fields and value types API Gateway sends (tests/local/gateway/apigw_rest_event.json
is the reference): nulls where API Gateway sends null (no query string, no path parameters,
no stage variables, no body), single- and multi-value views of headers and query strings, and
the requestContext the access log shares.
"""
from __future__ import annotations

import base64
import fnmatch
import json
from typing import Any
from urllib.parse import parse_qsl


def parse_query(query_string: str) -> list[tuple[str, str]]:
    """The query string's (name, value) pairs, decoded, blank values kept (`?flag` gives flag="")."""
    return parse_qsl(query_string, keep_blank_values=True) if query_string else []


class MalformedResponse(ValueError):
    """The function's answer is not a valid proxy response: API Gateway answers 502."""


def multi_map(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """(last value per name, every value per name) or (None, None) when there are none, as API Gateway sends."""
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def is_binary(content_type: str | None, binary_media_types: tuple[str, ...], body: bytes) -> bool:
    """Base64 when the API declares the media type binary; also for bytes that are not UTF-8 text,
    which a str field could not carry (API Gateway would mangle them)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and any(fnmatch.fnmatch(media, t.lower()) for t in binary_media_types):
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def build_event(*, method: str, resource_path: str, path: str, headers: list[tuple[str, str]],
                query: list[tuple[str, str]], path_params: dict[str, str], stage_variables: dict[str, str],
                body: bytes, binary_media_types: tuple[str, ...], context: dict[str, Any]) -> dict[str, Any]:
    """The proxy event. `context` is the request's $context; the event's requestContext is built from it."""
    single_headers, multi_headers = multi_map(headers)
    single_query, multi_query = multi_map(query)
    content_type = next((v for k, v in reversed(headers) if k.lower() == "content-type"), None)
    if not body:
        event_body, encoded = None, False
    elif is_binary(content_type, binary_media_types, body):
        event_body, encoded = base64.b64encode(body).decode("ascii"), True
    else:
        event_body, encoded = body.decode("utf-8"), False
    identity = context["identity"]
    return {
        "resource": resource_path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_params) or None,
        "stageVariables": dict(stage_variables) or None,
        "requestContext": {
            "resourceId": context["resourceId"],
            "resourcePath": resource_path,
            "httpMethod": method,
            "extendedRequestId": context["extendedRequestId"],
            "requestTime": context["requestTime"],
            "path": context["path"],
            "accountId": context["accountId"],
            "protocol": context["protocol"],
            "stage": context["stage"],
            "domainPrefix": context["domainPrefix"],
            "requestTimeEpoch": context["requestTimeEpoch"],
            "requestId": context["requestId"],
            "identity": {
                "cognitoIdentityPoolId": None,
                "cognitoIdentityId": None,
                "apiKey": identity.get("apiKey"),
                "principalOrgId": None,
                "cognitoAuthenticationType": None,
                "userArn": identity.get("userArn"),
                "apiKeyId": identity.get("apiKeyId"),
                "userAgent": identity.get("userAgent"),
                "accountId": identity.get("accountId"),
                "caller": identity.get("caller"),
                "sourceIp": identity["sourceIp"],
                "accessKey": identity.get("accessKey"),
                "cognitoAuthenticationProvider": None,
                "user": None,
            },
            "domainName": context["domainName"],
            "apiId": context["apiId"],
            # A Cognito authorizer's verified claims (local/gateway/authorize.py); absent without one.
            **({"authorizer": context["authorizer"]} if context.get("authorizer") else {}),
        },
        "body": event_body,
        "isBase64Encoded": encoded,
    }


_ALLOWED_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})


def parse_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a proxy response; MalformedResponse when API Gateway would refuse it.

    `result` is what the function returned after Lambda's JSON round trip.
    """
    if not isinstance(result, dict):
        raise MalformedResponse(f"the function returned {type(result).__name__}, not a JSON object")
    extra = set(result) - _ALLOWED_KEYS
    if extra:
        raise MalformedResponse(f"unexpected field(s) {', '.join(sorted(extra))} in the proxy response")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {result.get('statusCode')!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedResponse("headers and multiValueHeaders must be JSON objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((name, _header_value(name, v)) for v in values)
    # Docs: both are merged; a name in multiValueHeaders keeps only its own values.
    taken = {name.lower() for name in multi}
    headers.extend((name, _header_value(name, v)) for name, v in single.items() if name.lower() not in taken)
    body = result.get("body")
    if body is None:
        data = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded") is True:
            try:
                data = base64.b64decode(body, validate=True)
            except ValueError:
                raise MalformedResponse("isBase64Encoded is true but the body is not base64") from None
        else:
            data = body.encode("utf-8")
    else:
        raise MalformedResponse(f"body must be a string, not {type(body).__name__}")
    return status, headers, data


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedResponse(f"header {name!r} has a {type(value).__name__} value")


def json_round_trip(result: Any) -> Any:
    """What Lambda hands API Gateway: the return value serialised to JSON (TypeError if it cannot be)."""
    return json.loads(json.dumps(result))
