"""The Lambda entry point (Handler `app.lambda_handler`): the items API's routes and its error mapping.

Routes (API Gateway REST proxy, payload v1):
  GET    /items        list live items: ?limit=1..100 (default 25) &cursor=<opaque>
  POST   /items        create; 201 with Location and ETag
  GET    /items/{id}   one item, with ETag
  PUT    /items/{id}   replace an existing item's fields; If-Match optional (412 on mismatch)
  DELETE /items/{id}   204; If-Match optional (412 on mismatch)

An item is the client's JSON object plus the managed fields id, createdAt, updatedAt, version
and the TTL attribute; managed fields sent by a client are ignored (a GET -> edit -> PUT round
trip just works). Configuration, DynamoDB client and resolver are built once per container.
"""
from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import ClientError, ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

import caller
import config
import parsing
from cors import MAX_AGE_SECONDS, CorsPolicy
from errors import ApiError, BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge, ServiceUnavailable, error_body
from store import ItemStore, make_client

CONFIG = config.load()  # fails the cold start with every configuration problem listed
logger = Logger(service=CONFIG.service_name, level=CONFIG.log_level, environment=CONFIG.environment)
# Powertools disables the tracer outside Lambda and when POWERTOOLS_TRACE_DISABLED=true, so
# tests and `blueprint serve` send nothing to an X-Ray daemon that is not there.
tracer = Tracer(service=CONFIG.service_name)
STORE = ItemStore(make_client(), CONFIG.table_name, CONFIG.ttl_attribute, CONFIG.ttl_days)

# No CORSConfig: cors.py says why; CORS headers are added to the final response in lambda_handler.
app = APIGatewayRestResolver()

THROTTLING_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"})
TRANSIENT_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
RETRY_AFTER_SECONDS = "1"
MANAGED_FIELDS = frozenset({*config.MANAGED_FIELDS, CONFIG.ttl_attribute})


# -- small helpers over the current event ---------------------------------------------------------

def _event() -> dict:
    return app.current_event.raw_event


def _header(event: dict, name: str) -> str | None:
    """Case-insensitive header lookup that tolerates API Gateway's `"headers": null`."""
    headers = event.get("headers")
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            return value
    return None


def _query() -> dict[str, list[str]]:
    event = _event()
    multi = event.get("multiValueQueryStringParameters")
    if isinstance(multi, dict):
        return {k: [v for v in vs if isinstance(v, str)] for k, vs in multi.items() if isinstance(vs, list)}
    single = event.get("queryStringParameters")
    if isinstance(single, dict):
        return {k: [v] for k, v in single.items() if isinstance(v, str)}
    return {}


def _request_id(event: Any = None, context: Any = None) -> str:
    """API Gateway's request id (also the logs' correlation id), else Lambda's, else a fresh one."""
    ctx = event.get("requestContext") if isinstance(event, dict) else None
    rid = ctx.get("requestId") if isinstance(ctx, dict) else None
    if isinstance(rid, str) and rid:
        return rid
    rid = getattr(context, "aws_request_id", None)
    return rid if isinstance(rid, str) and rid else str(uuid.uuid4())


def _decimal(value: Any) -> Any:
    # DynamoDB numbers come back as Decimal: integers stay exact, the rest become JSON floats.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=_decimal)


def _respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=status, content_type=None, body=None, headers=headers or {})
    return Response(status_code=status, content_type="application/json", body=_json(body), headers=headers or {})


def _error(exc: ApiError, request_id: str | None = None) -> Response:
    body = error_body(exc.code, exc.message, request_id or _request_id(_event(), app.lambda_context))
    return _respond(exc.status, body, exc.headers)


def _etag(item: dict) -> str:
    return f'"{item["version"]}"'


def _body() -> dict[str, Any]:
    event = _event()
    data = parsing.json_object(event.get("body"), event.get("isBase64Encoded"), _header(event, "content-type"),
                               CONFIG.max_body_bytes)
    for name in MANAGED_FIELDS & data.keys():
        del data[name]
    return data


# -- routes ---------------------------------------------------------------------------------------

@app.get("/items")
def list_items():
    limit, start = parsing.list_query(_query())
    items, next_id = STORE.list(limit, start)
    return _respond(200, {"items": items, "nextCursor": parsing.encode_cursor(next_id) if next_id else None})


@app.post("/items")
def create_item():
    item = STORE.create(_body())
    # The path the client used (stage or custom-domain base path included), so Location resolves.
    ctx = _event().get("requestContext")
    base = ctx.get("path") if isinstance(ctx, dict) and isinstance(ctx.get("path"), str) else app.current_event.path
    location = f"{base.rstrip('/')}/{item['id']}"
    return _respond(201, item, {"Location": location, "ETag": _etag(item)})


@app.get("/items/<id>")
def get_item(id: str):  # noqa: A002 - the name is the path parameter's
    item = STORE.get(parsing.item_id(id))
    if item is None:
        raise NotFound(f"item {id} does not exist")
    return _respond(200, item, {"ETag": _etag(item)})


@app.put("/items/<id>")
def replace_item(id: str):  # noqa: A002
    item_id = parsing.item_id(id)
    data = _body()
    item = STORE.replace(item_id, data, parsing.if_match(_header(_event(), "if-match")))
    return _respond(200, item, {"ETag": _etag(item)})


@app.delete("/items/<id>")
def delete_item(id: str):  # noqa: A002
    item_id = parsing.item_id(id)
    STORE.delete(item_id, parsing.if_match(_header(_event(), "if-match")))
    return _respond(204)


# What the resolver really serves, in API Gateway's {param} syntax, for comparison with the spec.
_REGISTERED = app._static_routes + app._dynamic_routes  # pinned Powertools 3.37.0; no public accessor
ROUTES: list[tuple[str, str]] = [(route.openapi_path, route.method.upper()) for route in _REGISTERED]


# -- no route, errors -----------------------------------------------------------------------------

@app.not_found
def _no_route(_exc):
    """404 for an unknown path; 405 with Allow for a known path and another method; preflight for OPTIONS."""
    path = app.current_event.path
    allowed = sorted({route.method.upper() for route in _REGISTERED if route.rule.match(path)})
    if not allowed:
        return _error(NotFound(f"no resource at {path[:200]}"))
    allow = ", ".join(allowed + ["OPTIONS"])
    if app.current_event.http_method.upper() == "OPTIONS":
        # API Gateway answers preflight itself (a mock OPTIONS method); this covers local serving.
        return _respond(204, None, {"Allow": allow, "Access-Control-Max-Age": MAX_AGE_SECONDS})
    return _error(MethodNotAllowed(f"{path[:200]} allows {allow}", headers={"Allow": allow}))


@app.exception_handler(ApiError)
def _api_error(exc: ApiError):
    logger.info("client error", extra={"status": exc.status, "code": exc.code})
    return _error(exc)


@app.exception_handler(ClientError)
def _aws_error(exc: ClientError):
    code = exc.response.get("Error", {}).get("Code", "")
    message = exc.response.get("Error", {}).get("Message", "")
    if code in THROTTLING_CODES or code in TRANSIENT_CODES:
        # botocore's standard retry mode has already tried 3 times: tell the client when to retry.
        logger.warning("DynamoDB unavailable", extra={"aws_error": code})
        return _error(ServiceUnavailable("the table is busy; retry later", code="THROTTLED" if code in THROTTLING_CODES
                                         else "SERVICE_UNAVAILABLE", headers={"Retry-After": RETRY_AFTER_SECONDS}))
    if code == "ValidationException" and "item size" in message.lower():
        # DynamoDB measures items its own way; a body under MAX_BODY_BYTES can still come out larger.
        return _error(PayloadTooLarge("the item is larger than DynamoDB's 400 KB item limit"))
    return _internal(exc)


@app.exception_handler([ConnectTimeoutError, ReadTimeoutError, EndpointConnectionError, ConnectionClosedError])
def _aws_unreachable(exc: Exception):
    logger.warning("DynamoDB unreachable", extra={"aws_error": type(exc).__name__})
    return _error(ServiceUnavailable("the table did not answer in time; retry later",
                                     headers={"Retry-After": RETRY_AFTER_SECONDS}))


@app.exception_handler(Exception)
def _internal(exc: Exception):
    # Details go to the log (with the correlation id), never to the client.
    logger.exception("unhandled error")
    return _error(ApiError("internal error; quote the requestId when reporting it"))


def _fallback(exc: ApiError, request_id: str) -> dict:
    """A response built without the resolver, for events it cannot even start on."""
    multi = {"Content-Type": ["application/json"]}
    multi.update({k: [v] for k, v in exc.headers.items()})
    return {"statusCode": exc.status, "body": _json(error_body(exc.code, exc.message, request_id)),
            "isBase64Encoded": False, "multiValueHeaders": multi}


def _checked_event(event: Any) -> dict:
    """The proxy event with API Gateway's nulls made empty; BadRequest when it is not one at all."""
    if not isinstance(event, dict) or not isinstance(event.get("httpMethod"), str) or not isinstance(event.get("path"), str):
        raise BadRequest("not an API Gateway REST proxy request", code="INVALID_REQUEST")
    fixes = {k: {} for k in ("headers", "multiValueHeaders", "queryStringParameters",
                               "multiValueQueryStringParameters", "pathParameters")
             if not isinstance(event.get(k), dict)}
    return {**event, **fixes} if fixes else event


CORS = CorsPolicy(CONFIG.allowed_origins, {method for _path, method in ROUTES})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: Any) -> dict:
    origin = _header(event, "origin") if isinstance(event, dict) else None
    # Every log line of this invocation names the caller (set on each call: the logger outlives it).
    logger.append_keys(caller=caller.identity(event))
    try:
        response = app.resolve(_checked_event(event), context)
    except ApiError as exc:
        response = _fallback(exc, _request_id(event, context))
    except Exception:  # the resolver itself failed: still a JSON 500 with CORS headers
        logger.exception("unhandled error outside the routes")
        response = _fallback(ApiError("internal error; quote the requestId when reporting it"),
                             _request_id(event, context))
    return CORS.apply(response, origin)
