"""API Gateway's own answers: gateway responses (403, 429, 5XX...) and MOCK integrations (CORS preflight).

Both are shaped by the template: a gateway response by the AWS::ApiGateway::GatewayResponse of
its type (else DEFAULT_4XX / DEFAULT_5XX), with its status code, header mappings and body
template; a MOCK method by its integration response's parameters and mapping template, whose
`$context.responseOverride` assignments set headers and status per request.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from blueprint.local.gateway.definition import Api, GatewayResponse, Method


@dataclass(frozen=True)
class ErrorType:
    status: int
    message: str
    amzn_error_type: str  # API Gateway's x-amzn-ErrorType header


# The gateway-response types the local API produces, with API Gateway's defaults.
ERRORS: dict[str, ErrorType] = {
    "MISSING_AUTHENTICATION_TOKEN": ErrorType(403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "INVALID_API_KEY": ErrorType(403, "Forbidden", "ForbiddenException"),
    # An authorizer's refusals (local/gateway/authorize.py): no or a bad token, a missing scope or
    # a principal the resource policy does not allow, a SigV4 signature that does not verify.
    "UNAUTHORIZED": ErrorType(401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": ErrorType(403, "Forbidden", "AccessDeniedException"),
    "INVALID_SIGNATURE": ErrorType(403, "The request signature we calculated does not match the signature you "
                                        "provided. Check your AWS Secret Access Key and signing method.",
                                   "InvalidSignatureException"),
    "THROTTLED": ErrorType(429, "Too Many Requests", "TooManyRequestsException"),
    "QUOTA_EXCEEDED": ErrorType(429, "Limit Exceeded", "LimitExceededException"),
    "BAD_REQUEST_PARAMETERS": ErrorType(400, "Missing required request parameters", "BadRequestException"),
    "REQUEST_TOO_LARGE": ErrorType(413, "Request Too Long", "RequestTooLongException"),
    "INTEGRATION_TIMEOUT": ErrorType(504, "Endpoint request timed out", "InternalServerErrorException"),
    # Lambda refused the invocation (its concurrency is used up: 429 TooManyRequestsException). AWS's
    # Lambda guide ("Handling Lambda errors with an API Gateway API"): "If the Lambda API rejects the
    # invocation request, API Gateway returns a 500 error code", body {"message": "Internal server
    # error"}; the gateway-response type API Gateway uses for a Lambda 429 is INTEGRATION_FAILURE.
    "INTEGRATION_FAILURE": ErrorType(500, "Internal server error", "InternalServerErrorException"),
    # A Lambda proxy integration whose function fails or answers a malformed response: 502.
    "DEFAULT_5XX": ErrorType(502, "Internal server error", "InternalServerErrorException"),
    # A MOCK integration with no integration response to select: a configuration error.
    "API_CONFIGURATION_ERROR": ErrorType(500, "Internal server error", "InternalServerErrorException"),
}


class CaseInsensitiveDict(dict):
    """Header maps: lookups ignore case, keys keep the case they arrived in."""

    def __init__(self, items: Any = ()):
        super().__init__(items)
        self._lower = {k.lower(): k for k in self}

    def get(self, key: Any, default: Any = None) -> Any:
        real = self._lower.get(key.lower()) if isinstance(key, str) else None
        return dict.get(self, real, default) if real is not None else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower


@dataclass
class RequestView:
    """What mapping expressions (method.request.*) and templates ($input) can see of a request."""

    headers: CaseInsensitiveDict
    query: dict[str, str]
    path_params: dict[str, str]
    body: str = ""
    stage_variables: dict[str, str] = field(default_factory=dict)

    def params(self, name: str | None = None) -> Any:
        """$input.params() and $input.params('name') (path, then query string, then header).

        $input.params().header is a plain map keyed by the header names as the client sent them,
        so its get() is case-sensitive as on API Gateway (a Java map): an HTTP/2 browser's
        `origin` is not found by get("Origin"). Templates that read it check both spellings.
        """
        if name is None:
            return {"path": dict(self.path_params), "querystring": dict(self.query), "header": dict(self.headers)}
        for source in (self.path_params, self.query):
            if name in source:
                return source[name]
        return self.headers.get(name, "")

    def mapped(self, expression: str, context: dict[str, Any]) -> str | None:
        """The value of a parameter mapping: 'static', method.request.{header,querystring,path}.X,
        stageVariables.X or context.X; None when the source is absent (the header is left out)."""
        if len(expression) >= 2 and expression[0] == "'" and expression[-1] == "'":
            return expression[1:-1]
        prefix, _, name = expression.partition(".request.")
        if prefix == "method" and name:
            where, _, key = name.partition(".")
            if where == "header":
                return self.headers.get(key)
            if where == "querystring":
                return self.query.get(key)
            if where == "path":
                return self.path_params.get(key)
        if expression.startswith("stageVariables."):
            return self.stage_variables.get(expression.split(".", 1)[1])
        if expression.startswith("context."):
            value: Any = context
            for part in expression.split(".")[1:]:
                value = value.get(part) if isinstance(value, dict) else None
            return None if value is None else str(value)
        return None


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def gateway_response(api: Api, response_type: str, request: RequestView, context: dict[str, Any],
                     message: str | None = None) -> Answer:
    """API Gateway's answer of one type, shaped by the template's gateway responses.

    `context` is the request's $context; its error.* fields are filled here (the access log
    reads them afterwards).
    """
    kind = ERRORS[response_type]
    own = api.gateway_responses.get(response_type)
    status = int(own.status_code) if own and own.status_code else kind.status
    return _shaped(api, response_type, status, message or kind.message, kind.amzn_error_type, request, context)


def protocol_error(api: Api, status: int, message: str, request: RequestView, context: dict[str, Any]) -> Answer:
    """The answer to bytes the server could not read as a request (a malformed request line or header,
    a body cut short): no resource or method is known, so the API's DEFAULT_4XX (or DEFAULT_5XX)
    gateway response shapes it, with its CORS headers, as every other answer of the gateway."""
    response_type = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    amzn = "BadRequestException" if status < 500 else None
    return _shaped(api, response_type, status, message, amzn, request, context)


def _shaped(api: Api, response_type: str, status: int, text: str, amzn_error_type: str | None,
            request: RequestView, context: dict[str, Any]) -> Answer:
    context["error"] = {"message": text, "messageString": json.dumps(text), "responseType": response_type}
    fallback = "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"
    chosen: GatewayResponse | None = api.gateway_responses.get(response_type) or api.gateway_responses.get(fallback)
    headers = [("Content-Type", "application/json")]
    if amzn_error_type:
        headers.append(("x-amzn-ErrorType", amzn_error_type))
    if chosen is not None:
        for key, expression in chosen.parameters.items():
            if key.startswith("gatewayresponse.header."):
                value = request.mapped(expression, context)
                if value is not None:
                    headers.append((key[len("gatewayresponse.header."):], value))
    if chosen is not None and chosen.template is not None:
        body = chosen.template.render({"context": context, "stageVariables": request.stage_variables,
                                       "input": request})
    else:
        body = '{"message":' + context["error"]["messageString"] + "}"
    return Answer(status, headers, body.encode())


def mock_response(api: Api, method: Method, request: RequestView, context: dict[str, Any]) -> Answer:
    """The answer of a MOCK integration (the CORS preflight), as its integration response maps it."""
    assert method.mock is not None
    selected = method.mock.response_for(method.mock.status_code)
    if selected is None:
        return gateway_response(api, "API_CONFIGURATION_ERROR", request, context)
    scope: dict[str, Any] = {"context": {**context, "responseOverride": {"header": {}}},
                             "input": request, "stageVariables": request.stage_variables}
    body = selected.template.render(scope) if selected.template is not None else ""
    headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
    for key, expression in selected.parameters.items():
        if key.startswith("method.response.header."):
            value = request.mapped(expression, context)
            if value is not None:
                headers.append((key[len("method.response.header."):], value))
    override = scope["context"].get("responseOverride") or {}
    for name, value in (override.get("header") or {}).items():
        if value is not None:
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, str(value))]
    status = int(override.get("status") or selected.status_code)
    # A 204 carries no body, whatever the template printed (whitespace from its directives).
    return Answer(status, headers, b"" if status in (204, 304) else body.encode())
