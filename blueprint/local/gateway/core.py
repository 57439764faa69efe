"""The request pipeline of the local API Gateway, free of sockets: Request in, Answer out.

In API Gateway's order: a request the server could not read (its status, shaped by the
DEFAULT_4XX/5XX gateway response) -> stage -> payload limit -> route and method, whatever the
method's name (else 403 MISSING_AUTHENTICATION_TOKEN) -> the method's authorizer (Cognito: 401
UNAUTHORIZED, 403 ACCESS_DENIED for a scope; IAM: 403, authorize.py) -> API key (403 INVALID_API_KEY) ->
throttles (429 THROTTLED: the usage plan's bucket per key, then the stage's bucket per method)
and the usage plan's quota (429 QUOTA_EXCEEDED) -> request validation (400) -> integration: MOCK
(CORS preflight) or the Lambda proxy (502 when the function fails or answers malformed, 504 on
the integration timeout, 500 when Lambda would refuse the invocation for want of concurrency).
Every request, answered or refused, writes one access-log line.
"""
from __future__ import annotations

import hmac
import secrets
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from blueprint.local.gateway import authorize, events, responses, throttle
from blueprint.local.gateway.accesslog import AccessLog
from blueprint.local.gateway.definition import Api, Method
from blueprint.local.gateway.responses import Answer, CaseInsensitiveDict, RequestView
from blueprint.local.gateway.routing import Router
from blueprint.local.gateway.runtime import ConcurrencyExhausted, FunctionError, IntegrationTimeout, LambdaRuntime

PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024  # API Gateway's REST payload limit


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query string, as on the request line
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    host: str = "127.0.0.1"
    port: int = 80
    too_large: bool = False  # the body is over PAYLOAD_LIMIT_BYTES and was not read (the server's flag)
    refused: tuple[int, str] | None = None  # the server could not read the request: (status, message)
    received: float | None = None  # time.monotonic() when the server had it whole (queued since then)


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key the local API accepts: its value, its id (identity.apiKeyId) and the plans it is bound to."""

    value: str
    key_id: str
    logical_id: str


@dataclass
class _Limits:
    plan_buckets: list[tuple[str, throttle.BucketSet, dict[tuple[str, str], throttle.BucketSet]]] = field(default_factory=list)
    quotas: list[throttle.Quota] = field(default_factory=list)


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of a header, its name compared case-insensitively (`name` in lower case)."""
    return next((v for k, v in headers if k.lower() == name), None)


def _key_bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _request_time(now: float) -> str:
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _trace_id(now: float) -> str:
    return f"1-{int(now):08x}-{secrets.token_hex(12)}"


class Gateway:
    def __init__(self, api: Api, runtime: LambdaRuntime | None, *, keys: list[ApiKeyInfo], api_id: str,
                 account_id: str, access_log: AccessLog, throttling: bool = True,
                 clock: Callable[[], float] = time.monotonic, function_log: Callable[[str], None] | None = None,
                 cognito: authorize.CognitoPool | None = None, credentials: authorize.LocalCredentials | None = None):
        self.api = api
        # The authorizers' knowledge: the pool whose tokens COGNITO_USER_POOLS methods take, the
        # credentials AWS_IAM methods verify signatures with. Without them those methods refuse all.
        self.cognito, self.credentials = cognito, credentials
        self.runtime = runtime
        self.api_id, self.account_id = api_id, account_id
        self.access_log = access_log
        self.throttling = throttling
        self.router = Router(api.methods)
        self._stage_prefix = "/" + api.stage
        self._function_log = function_log or (lambda text: print(text, file=sys.stderr, flush=True))
        self._keys = [(_key_bytes(k.value), k) for k in keys]
        # Usage plans per key: its buckets (plan-wide and per method) and quotas, by key value.
        self._limits: dict[str, _Limits] = {}
        for plan in api.usage_plans:
            plan_bucket = throttle.BucketSet(plan.throttle.rate_limit, plan.throttle.burst_limit, clock) if plan.throttle else None
            per_method = {m: throttle.BucketSet(t.rate_limit, t.burst_limit, clock) for m, t in plan.method_throttles.items()}
            quota = throttle.Quota(plan.quota.limit, plan.quota.period, plan.quota.offset) if plan.quota else None
            for key in keys:
                if key.logical_id in plan.api_keys:
                    limits = self._limits.setdefault(key.value, _Limits())
                    if plan_bucket or per_method:
                        limits.plan_buckets.append((plan.name, plan_bucket, per_method))  # type: ignore[arg-type]
                    if quota:
                        limits.quotas.append(quota)
        # Stage throttling: the stage's MethodSettings apply per method. AWS's docs ("Throttle API
        # requests for better throughput": method-level throttling in a stage's settings) say the
        # /*/* entry (HttpMethod "*", ResourcePath "/*") sets the limits of every method of the
        # stage, each method counted on its own, not one bucket shared by the whole stage. So the
        # local server gives every (resource, verb) its own bucket with the /*/* limits, unless a
        # more specific setting for that method overrides them (Api.method_throttle).
        self._stage_buckets: dict[tuple[str, str], throttle.TokenBucket] = {}
        for path, verbs in api.methods.items():
            for verb in verbs:
                limit = api.method_throttle(path, verb)
                if limit:
                    self._stage_buckets[(path, verb)] = throttle.TokenBucket(limit.rate_limit, limit.burst_limit, clock)

    # -- the pipeline ----------------------------------------------------------------------------

    def handle(self, req: Request) -> Answer:
        started = time.perf_counter()
        now = time.time()
        path, _, query_string = req.target.partition("?")
        user_agent = header_value(req.headers, "user-agent")
        context: dict[str, Any] = {
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": secrets.token_urlsafe(12)[:15] + "=",
            "apiId": self.api_id,
            "accountId": self.account_id,
            "stage": self.api.stage,
            "domainName": req.host,
            "domainPrefix": req.host.split(".", 1)[0].split(":", 1)[0],
            "httpMethod": req.method,
            "path": path,
            "protocol": req.protocol,
            "requestTime": _request_time(now),
            "requestTimeEpoch": int(now * 1000),
            "resourcePath": None,
            "resourceId": None,
            "identity": {"sourceIp": req.source_ip, "userAgent": user_agent, "apiKey": None, "apiKeyId": None},
            "error": {},
            "integrationLatency": None,
            "xrayTraceId": _trace_id(now) if self.api.tracing else None,
        }
        answer = self._dispatch(req, context, path, query_string)
        answer.headers.append(("x-amzn-RequestId", context["requestId"]))
        answer.headers.append(("x-amz-apigw-id", context["extendedRequestId"]))
        if context["xrayTraceId"]:
            answer.headers.append(("X-Amzn-Trace-Id", f"Root={context['xrayTraceId']};Sampled=0"))
        context["status"] = answer.status
        context["responseLength"] = len(answer.body)
        context["responseLatency"] = int((time.perf_counter() - started) * 1000)
        self.access_log.write(context)
        return answer

    def _dispatch(self, req: Request, context: dict[str, Any], path: str, query_string: str) -> Answer:
        query = events.parse_query(query_string)
        view = _LazyView(req, query, self.api.stage_variables)
        if req.refused is not None:
            return responses.protocol_error(self.api, req.refused[0], req.refused[1], view.get(), context)

        if path != self._stage_prefix and not path.startswith(self._stage_prefix + "/"):
            # No stage of this API: API Gateway answers a bare 403 without the API's gateway responses.
            context["error"] = {"message": "Forbidden", "messageString": '"Forbidden"', "responseType": "MISSING_AUTHENTICATION_TOKEN"}
            return Answer(403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ForbiddenException")],
                          b'{"message":"Forbidden"}')
        resource_path = path[len(self._stage_prefix):] or "/"
        if req.too_large or len(req.body) > PAYLOAD_LIMIT_BYTES:
            return self._refuse("REQUEST_TOO_LARGE", view, context)
        matched = self.router.match(resource_path)
        if matched is None:
            return self._refuse("MISSING_AUTHENTICATION_TOKEN", view, context)
        resource, path_params = matched
        view.path_params = path_params
        verbs = self.api.methods.get(resource, {})
        method = verbs.get(req.method) or verbs.get("ANY")
        if method is None:
            return self._refuse("MISSING_AUTHENTICATION_TOKEN", view, context)
        context["resourcePath"] = resource
        context["resourceId"] = method.resource_id

        refused = self._authorize(req, method, context)
        if refused:
            kind, why = refused if isinstance(refused, tuple) else (refused, None)
            return self._refuse(kind, view, context, why)

        key = None
        if method.api_key_required:
            sent = header_value(req.headers, "x-api-key")
            key = self._accepted_key(sent) if sent is not None else None
            if key is None:
                return self._refuse("INVALID_API_KEY", view, context)
            context["identity"]["apiKey"] = key.value
            context["identity"]["apiKeyId"] = key.key_id

        if self.throttling:
            refused = self._throttle(method, key)
            if refused:
                return self._refuse(refused, view, context)

        missing = [name for where, name in method.required_parameters if not view.has(where, name)]
        if missing:
            return self._refuse("BAD_REQUEST_PARAMETERS", view, context,
                                f"Missing required request parameters: [{', '.join(missing)}]")

        if method.integration == "MOCK":
            return responses.mock_response(self.api, method, view.get(), context)
        return self._invoke(req, method, resource, path_params, query, context, view)

    def _authorize(self, req: Request, method: Method, context: dict[str, Any]) -> str | tuple[str, str] | None:
        if method.authorization_type == "COGNITO_USER_POOLS":
            if self.cognito is None:
                return "UNAUTHORIZED"
            return authorize.check_cognito(self.cognito, method.scopes, header_value(req.headers, "authorization"), context)
        if method.authorization_type == "AWS_IAM":
            if self.credentials is None:
                return "MISSING_AUTHENTICATION_TOKEN"
            host = header_value(req.headers, "host") or f"{req.host}:{req.port}"
            return authorize.check_sigv4(self.credentials, req.method, f"http://{host}{req.target}", req.headers,
                                         req.body, context, lambda name: header_value(req.headers, name))
        return None

    def _accepted_key(self, sent: str) -> ApiKeyInfo | None:
        """The accepted key equal to `sent`, compared in constant time against every key (no early exit)."""
        sent_bytes = _key_bytes(sent)
        found = None
        for value, info in self._keys:
            if hmac.compare_digest(value, sent_bytes):
                found = info
        return found

    def _throttle(self, method: Method, key: ApiKeyInfo | None) -> str | None:
        if key is not None:
            limits = self._limits.get(key.value)
            if limits:
                for _plan, plan_bucket, per_method in limits.plan_buckets:
                    specific = per_method.get((method.resource_path, method.http_method))
                    bucket = specific or plan_bucket
                    if bucket is not None and not bucket.take(key.value):
                        return "THROTTLED"
        stage_bucket = self._stage_buckets.get((method.resource_path, method.http_method))
        if stage_bucket is not None and not stage_bucket.take():
            return "THROTTLED"
        if key is not None:
            limits = self._limits.get(key.value)
            for quota in limits.quotas if limits else ():
                if not quota.take(key.value):
                    return "QUOTA_EXCEEDED"
        return None

    def _refuse(self, response_type: str, view: "_LazyView", context: dict[str, Any], message: str | None = None) -> Answer:
        return responses.gateway_response(self.api, response_type, view.get(), context, message)

    def _invoke(self, req: Request, method: Method, resource: str, path_params: dict[str, str],
                query: list[tuple[str, str]], context: dict[str, Any], view: "_LazyView") -> Answer:
        if self.runtime is None:
            return self._refuse("DEFAULT_5XX", view, context)
        headers = _forwarded_headers(req, context)
        event = events.build_event(
            method=req.method, resource_path=resource, path=context["path"][len(self._stage_prefix):] or "/",
            headers=headers, query=query, path_params=path_params, stage_variables=self.api.stage_variables,
            body=req.body, binary_media_types=self.api.binary_media_types, context=context)
        started = time.perf_counter()
        try:
            result = self.runtime.invoke(event, method.timeout_ms / 1000.0, queued_since=req.received)
        except IntegrationTimeout:
            context["integrationLatency"] = int((time.perf_counter() - started) * 1000)
            self._function_log(f"[{context['requestId']}] Execution failed: endpoint request timed out "
                               f"after {method.timeout_ms} ms")
            return self._refuse("INTEGRATION_TIMEOUT", view, context)
        except FunctionError as exc:
            context["integrationLatency"] = int((time.perf_counter() - started) * 1000)
            self._function_log(f"[{context['requestId']}] Lambda invocation failed: {exc}\n{exc.detail}".rstrip())
            return self._refuse("DEFAULT_5XX", view, context)
        except ConcurrencyExhausted as exc:
            context["integrationLatency"] = int((time.perf_counter() - started) * 1000)
            self._function_log(f"[{context['requestId']}] Lambda invocation failed with status: 429 "
                               f"(TooManyRequestsException: Rate Exceeded.): {exc}")
            return self._refuse("INTEGRATION_FAILURE", view, context)
        context["integrationLatency"] = int((time.perf_counter() - started) * 1000)
        try:
            status, out_headers, body = events.parse_response(result)
        except events.MalformedResponse as exc:
            self._function_log(f"[{context['requestId']}] Execution failed due to configuration error: "
                               f"Malformed Lambda proxy response ({exc})")
            return self._refuse("DEFAULT_5XX", view, context)
        if not any(k.lower() == "content-type" for k, _ in out_headers):
            out_headers.append(("Content-Type", "application/json"))
        return Answer(status, out_headers, body)


def _forwarded_headers(req: Request, context: dict[str, Any]) -> list[tuple[str, str]]:
    """The request's headers plus what API Gateway adds before calling the integration."""
    headers = list(req.headers)
    names = {k.lower() for k, _ in headers}
    forwarded = header_value(headers, "x-forwarded-for")
    headers = [(k, v) for k, v in headers if k.lower() != "x-forwarded-for"]
    headers.append(("X-Forwarded-For", f"{forwarded}, {req.source_ip}" if forwarded else req.source_ip))
    if "x-forwarded-port" not in names:
        headers.append(("X-Forwarded-Port", str(req.port)))
    if "x-forwarded-proto" not in names:
        headers.append(("X-Forwarded-Proto", "http"))
    if "x-amzn-trace-id" not in names:
        trace = context["xrayTraceId"] or _trace_id(time.time())
        headers.append(("X-Amzn-Trace-Id", f"Root={trace}"))
    return headers


class _LazyView:
    """The RequestView, built only when a gateway response, a MOCK or a validation needs it."""

    def __init__(self, req: Request, query: list[tuple[str, str]], stage_variables: dict[str, str]):
        self._req, self._query, self._stage_variables = req, query, stage_variables
        self.path_params: dict[str, str] = {}
        self._view: RequestView | None = None

    def get(self) -> RequestView:
        if self._view is None:
            body = self._req.body.decode("utf-8", "replace")
            self._view = RequestView(headers=CaseInsensitiveDict(self._req.headers), query=dict(self._query),
                                     path_params=self.path_params, body=body, stage_variables=self._stage_variables)
        return self._view

    def has(self, where: str, name: str) -> bool:
        if where == "path":
            return bool(self.path_params.get(name))
        if where == "querystring":
            return any(k == name for k, _ in self._query)
        return any(k.lower() == name.lower() for k, _ in self._req.headers)
