"""Build API Gateway REST proxy events (payload v1) as API Gateway sends them, and read responses.

Shape as in AWS's docs "Input format of a Lambda function for proxy integration": both
`headers` and `multiValueHeaders`, both query maps (null when there is no query string),
`pathParameters` from the matched resource, a requestContext with requestId, stage,
identity, resourcePath and httpMethod, and `isBase64Encoded`.
"""
from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

STAGE = "v1"
ALLOWED_ORIGIN = "http://localhost:3000"


def _resource_for(path: str) -> tuple[str, dict[str, str] | None]:
    """The API Gateway resource a path would match, and its path parameters."""
    clean = path.rstrip("/") or "/"
    if clean == "/items":
        return "/items", None
    m = re.fullmatch(r"/items/([^/]+)", clean)
    if m:
        return "/items/{id}", {"id": m.group(1)}
    return "/{proxy+}", {"proxy": clean.lstrip("/")}


def api_event(
    method: str,
    path: str,
    *,
    body: str | bytes | dict | list | None = None,
    headers: dict[str, str | list[str]] | None = None,
    query: str | dict[str, str | list[str]] | None = None,
    base64_body: bool = False,
    origin: str | None = ALLOWED_ORIGIN,
    content_type: str | None = "application/json",
    request_id: str | None = None,
) -> dict[str, Any]:
    """One REST proxy event. `body` dict/list is JSON-encoded; bytes are sent base64-encoded."""
    multi_headers: dict[str, list[str]] = {
        "Accept": ["application/json"],
        "Host": ["abc123.execute-api.us-east-1.amazonaws.com"],
        "User-Agent": ["pytest"],
        "X-Amzn-Trace-Id": ["Root=1-5e1b4151-5ac6c58f5b5daa6532e4c8b5"],
        "X-Api-Key": ["test-key"],
        "X-Forwarded-For": ["192.0.2.10"],
        "X-Forwarded-Port": ["443"],
        "X-Forwarded-Proto": ["https"],
    }
    if origin is not None:
        multi_headers["Origin"] = [origin]
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if body is not None and content_type is not None:
        multi_headers["Content-Type"] = [content_type]
    for name, value in (headers or {}).items():
        multi_headers[name] = value if isinstance(value, list) else [value]

    if isinstance(body, bytes):
        body = base64.b64encode(body).decode()
        base64_body = True
    elif base64_body and body is not None:
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()

    multi_query: dict[str, list[str]] | None = None
    if isinstance(query, str):
        multi_query = {}
        for k, v in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(k, []).append(v)
    elif query:
        multi_query = {k: v if isinstance(v, list) else [v] for k, v in query.items()}
    multi_query = multi_query or None

    resource, path_params = _resource_for(path)
    rid = request_id or str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        # API Gateway sends null, not {}, when there are none.
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_params,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "extendedRequestId": "ExtReq" + rid[:8],
            "httpMethod": method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "apiKey": "test-key",
                "apiKeyId": "key123",
                "caller": None,
                "sourceIp": "192.0.2.10",
                "user": None,
                "userAgent": "pytest",
                "userArn": None,
            },
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": rid,
            "requestTime": "28/Nov/2025:15:34:00 +0000",
            "requestTimeEpoch": 1764344040000,
            "resourceId": "res123",
            "resourcePath": resource,
            "stage": STAGE,
        },
        "body": body,
        "isBase64Encoded": bool(base64_body and body is not None),
    }


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools' Logger reads."""

    function_name: str = "items-dev-api"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:items-dev-api"
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    log_group_name: str = "/aws/lambda/items-dev-api"
    log_stream_name: str = "2025/11/28/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def header(response: dict, name: str) -> str | None:
    """A response header, case-insensitively, from multiValueHeaders or headers."""
    for source in ("multiValueHeaders", "headers"):
        for key, value in (response.get(source) or {}).items():
            if key.lower() == name.lower():
                return ",".join(value) if isinstance(value, list) else value
    return None


def body(response: dict) -> Any:
    return json.loads(response["body"])
