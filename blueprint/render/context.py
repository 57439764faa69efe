"""What the templates are given beside the spec: physical names, subnets, the API's resource tree, formats.

Each function derives one thing from the validated spec; the Jinja templates only place it.
"""
from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from blueprint.render.alarms import alarms_context
from blueprint.render.auth import auth_context
from blueprint.spec.model import Spec, path_name, path_prefixes

# One JSON object per request in the access-log group; `blueprint serve` writes the same.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "apiKeyId": "$context.identity.apiKeyId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "latency": "$context.responseLatency",
    "errorType": "$context.error.responseType",
    "xrayTraceId": "$context.xrayTraceId",
}


@dataclass(frozen=True)
class Retention:
    """A resource's DeletionPolicy and UpdateReplacePolicy.

    Kept resources use RetainExceptOnCreate on delete: like Retain, except that the operation which
    created the resource deletes it when it rolls back, so a failed first create of a protected
    environment leaves no fixed-name table, queue or log group behind to block the retry. The
    attribute is valid only as a DeletionPolicy (cfn-lint E3036 refuses it as UpdateReplacePolicy),
    so replacement keeps plain Retain. docs/real-account.md, item 1.
    """

    deletion: str
    update_replace: str


KEPT = Retention("RetainExceptOnCreate", "Retain")
DELETED = Retention("Delete", "Delete")


@dataclass(frozen=True)
class ApiResource:
    """One path segment of the REST API as an AWS::ApiGateway::Resource, with its methods."""

    path: str
    part: str
    logical_id: str
    parent: str | None  # logical id of the parent resource; None under the API's root
    methods: tuple[tuple[str, str], ...]  # (HTTP method, logical id of its AWS::ApiGateway::Method)
    preflight_id: str  # logical id of its OPTIONS method, when it has methods
    path_params: tuple[str, ...]


def api_resources(spec: Spec) -> list[ApiResource]:
    """Every resource of the API, parents first, including intermediate path segments."""
    methods: dict[str, tuple[str, ...]] = {}
    for route in spec.api.routes:
        methods[route.path] = route.methods
        for prefix in path_prefixes(route.path)[:-1]:
            methods.setdefault(prefix, ())
    out = []
    for path in sorted(methods, key=lambda p: (p.count("/"), p)):
        parts = path.strip("/").split("/")
        name = path_name(path)
        out.append(ApiResource(
            path=path, part=parts[-1], logical_id=f"Resource{name}",
            parent=f"Resource{path_name(path.rsplit('/', 1)[0])}" if len(parts) > 1 else None,
            methods=tuple((m, f"Method{name}{m.capitalize()}") for m in methods[path]),
            preflight_id=f"Preflight{name}",
            path_params=tuple(p[1:-1] for p in parts if p.startswith("{")),
        ))
    return out


# API Gateway's own answers that carry CORS headers (G1): (logical id, ResponseType).
GATEWAY_RESPONSES = (("GatewayResponseDefault4XX", "DEFAULT_4XX"), ("GatewayResponseDefault5XX", "DEFAULT_5XX"))


def gateway_origin(spec: Spec) -> str:
    """The Access-Control-Allow-Origin of the gateway's own answers (403, 429, 5XX).

    A gateway response cannot choose among origins, and echoing the request's Origin would
    hand any site what the preflight and the handler refuse it. So it names the first allowed
    origin: list the main application first.
    """
    return f"'{spec.api.cors.allow_origins[0]}'"


def preflight_origin_vtl(spec: Spec) -> str:
    """The preflight's response template: echo the request's Origin only when it is an allowed one.

    A static header could name just one origin. Header names reach the template as the client sent
    them (HTTP/2 sends `origin`), so both spellings are read.
    """
    allowed = " || ".join(f"$origin == {json.dumps(o)}" for o in spec.api.cors.allow_origins)
    return "\n".join([
        '#set($origin = $input.params().header.get("Origin"))',
        '#if("$!origin" == "")',
        '#set($origin = $input.params().header.get("origin"))',
        "#end",
        f"#if({allowed})",
        "#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)",
        "#end",
    ]) + "\n"


@dataclass(frozen=True)
class LambdaLogLevels:
    """The function's LoggingConfig levels, in Lambda's names, for the spec's Python level."""

    application: str  # TRACE | DEBUG | INFO | WARN | ERROR | FATAL
    system: str  # DEBUG | INFO | WARN: the platform's START/END/REPORT lines are INFO


# Python's level names -> Lambda's (Powertools maps them back the same way: WARN is WARNING).
APPLICATION_LOG_LEVEL = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "ERROR"}
# Lambda's system log has no ERROR: WARN is its quietest level.
SYSTEM_LOG_LEVEL = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARN", "ERROR": "WARN"}


def lambda_log_levels(spec: Spec) -> LambdaLogLevels:
    """Lambda's log levels for the spec's: with JSON logs and no ApplicationLogLevel, Lambda runs at INFO
    and Powertools follows Lambda's AWS_LAMBDA_LOG_LEVEL over the spec's POWERTOOLS_LOG_LEVEL."""
    level = spec.function.log_level
    return LambdaLogLevels(APPLICATION_LOG_LEVEL[level], SYSTEM_LOG_LEVEL[level])


def names(spec: Spec) -> dict[str, str]:
    """The physical names of the stack: each carries the service and the environment."""
    prefix = f"{spec.service}-{spec.env}"
    return {
        "prefix": prefix,
        "table": f"{prefix}-items",
        "function": f"{prefix}-api",
        "dlq": f"{prefix}-dlq",
        "api": prefix,
        "api_key": f"{prefix}-key",
        "usage_plan": f"{prefix}-plan",
        "key_alias": f"alias/{prefix}",
        "function_logs": f"/aws/lambda/{prefix}-api",
        "access_logs": f"/aws/apigateway/{prefix}/access",
        "flow_logs": f"/aws/vpc/{prefix}/flow-logs",
        "waf_logs": f"aws-waf-logs-{prefix}",
        "web_acl": f"{prefix}-acl",
    }


def subnets(spec: Spec) -> list[str]:
    """One private subnet CIDR per AZ: the VPC split in sixteen, the first `az_count` of them."""
    vpc = ipaddress.IPv4Network(spec.network.vpc_cidr)
    return [str(s) for s in list(vpc.subnets(prefixlen_diff=4))[: spec.network.az_count]]


def log_groups(spec: Spec) -> list[tuple[str, str | None]]:
    """(logical id, name) of every log group the stack owns; the execution log group's name is API Gateway's."""
    n = names(spec)
    groups: list[tuple[str, str | None]] = [("FunctionLogGroup", n["function_logs"]),
                                            ("AccessLogGroup", n["access_logs"]), ("ExecutionLogGroup", None)]
    if spec.network.flow_logs:
        groups.append(("FlowLogGroup", n["flow_logs"]))
    if spec.api.waf:
        groups.append(("WafLogGroup", n["waf_logs"]))
    return groups


@dataclass(frozen=True)
class WafBody:
    """How the web ACL treats request bodies, from the largest the handler accepts."""

    count_size_rule: bool  # override the common rule set's SizeRestrictions_BODY (8 KB) to Count
    inspection_limit: str | None  # API Gateway's DefaultSizeInspectionLimit above its 16 KB default


WAF_SIZE_RULE_BYTES = 8 * 1024  # SizeRestrictions_BODY blocks bodies over 8 KB, whatever is inspected
WAF_DEFAULT_INSPECTION_BYTES = 16 * 1024  # what API Gateway forwards to WAF by default
WAF_INSPECTION_LIMITS = (16, 32, 48, 64)  # KB: the DefaultSizeInspectionLimit values WAF offers


def waf_body(spec: Spec) -> WafBody:
    """The web ACL's body handling: count, not block, the 8 KB rule when the handler takes more, and
    have API Gateway forward the whole accepted body (the smallest limit that holds it) when it is
    over 16 KB. Above 64 KB WAF cannot inspect it at all: rules/waf_inspects_body.py refuses that."""
    size = spec.function.max_body_bytes
    limit = None
    if size > WAF_DEFAULT_INSPECTION_BYTES:
        limit = next((f"KB_{kb}" for kb in WAF_INSPECTION_LIMITS if kb * 1024 >= size), f"KB_{WAF_INSPECTION_LIMITS[-1]}")
    return WafBody(count_size_rule=size > WAF_SIZE_RULE_BYTES, inspection_limit=limit)


def stage_checkov_skips(spec: Spec) -> list[tuple[str, str]]:
    """The checkov checks the stage skips by decision, each with its reason."""
    skips = []
    if not spec.api.caching:
        skips.append(("CKV_AWS_120", "Caching is off by decision (spec api.caching): the items API serves per-key, "
                                     "mutable data that must never be answered stale."))
    if not spec.api.waf:
        skips.append(("CKV2_AWS_29", "WAF is a spec switch (api.waf) because a web ACL costs money; this environment "
                                     "has it off. Every method already needs an API key and is throttled."))
    return skips


def stage_nag(spec: Spec) -> list[tuple[str, str]]:
    """The cdk-nag rules the stage suppresses by decision, each with its reason."""
    if spec.api.waf:
        return []
    return [("AwsSolutions-APIG3", "WAF is a spec switch (api.waf) because a web ACL costs money; this environment "
                                   "has it off. Every method already needs an API key and is throttled.")]


def template_context(spec: Spec) -> dict[str, Any]:
    """Everything the environment's templates read."""
    return {
        "spec": spec, "names": names(spec), "subnets": subnets(spec),
        "resources": api_resources(spec), "tags": spec.all_tags,
        "stack_retain": KEPT if spec.protected else DELETED,
        "table_retain": KEPT if spec.table.retain_on_delete else DELETED,
        "preflight_vtl": preflight_origin_vtl(spec),
        "gateway_origin": gateway_origin(spec),
        "gateway_responses": GATEWAY_RESPONSES + tuple((i, kind) for i, kind, _ in auth_context(spec)["auth_responses"]),
        "access_log_format": ACCESS_LOG_FORMAT,
        "stage_skips": stage_checkov_skips(spec), "stage_nag": stage_nag(spec),
        "waf_body": waf_body(spec),
        "log_groups": log_groups(spec),
        "lambda_log_levels": lambda_log_levels(spec),
        **alarms_context(spec),
        **auth_context(spec),
    }
