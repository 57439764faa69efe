"""Read a rendered CloudFormation template's REST API into plain data the local gateway serves.

Everything the local API does comes from here: the routes (AWS::ApiGateway::Resource and
::Method), API-key requirements, integrations (AWS_PROXY to the template's function, MOCK for
preflight), request validation, gateway responses, the stage (name, method settings, access-log
format, tracing), usage plans and the function's handler, timeout and environment. There is no
second list of routes anywhere.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from blueprint.cfn.refs import getatt_target as _getatt
from blueprint.cfn.refs import ref_target as _ref
from blueprint.local.gateway import vtl
from blueprint.spec.model import Quota, Throttle

# API Gateway's hard limit on the integration timeout of a REST API (G7).
DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
DEFAULT_FUNCTION_TIMEOUT_S = 3  # Lambda's default when a template gives no Timeout
DEFAULT_FUNCTION_MEMORY_MB = 128


class ModelError(ValueError):
    """The template's API cannot be served locally; the message names the resource."""


@dataclass(frozen=True)
class IntegrationResponse:
    status_code: str
    selection_pattern: str | None
    parameters: dict[str, str]  # method.response.header.X -> mapping expression
    template: vtl.Template | None


@dataclass(frozen=True)
class MockIntegration:
    status_code: str  # what the request template selects
    responses: tuple[IntegrationResponse, ...]

    def response_for(self, status: str) -> IntegrationResponse | None:
        """The integration response whose selection pattern matches, else the default one."""
        default = None
        for resp in self.responses:
            if resp.selection_pattern is None or resp.selection_pattern == "":
                default = default or resp
            elif re.fullmatch(resp.selection_pattern, status):
                return resp
        return default


@dataclass(frozen=True)
class Method:
    logical_id: str
    http_method: str
    resource_path: str
    resource_id: str
    api_key_required: bool
    integration: str  # AWS_PROXY | MOCK
    timeout_ms: int
    required_parameters: tuple[tuple[str, str], ...]  # (path|querystring|header, name), when validated
    mock: MockIntegration | None = None
    authorization_type: str = "NONE"  # NONE | COGNITO_USER_POOLS | AWS_IAM (local/gateway/authorize.py)
    scopes: tuple[str, ...] = ()  # AuthorizationScopes: a Cognito access token needs one of them


@dataclass(frozen=True)
class GatewayResponse:
    response_type: str
    status_code: str | None
    parameters: dict[str, str]  # gatewayresponse.header.X -> mapping expression
    template: vtl.Template | None


@dataclass(frozen=True)
class MethodSetting:
    resource_path: str  # "/*" or a decoded resource path such as /items/{id}
    http_method: str  # "*" or a method
    throttle: Throttle | None


@dataclass(frozen=True)
class UsagePlan:
    name: str
    throttle: Throttle | None
    quota: Quota | None
    method_throttles: dict[tuple[str, str], Throttle]  # (resource path, method) -> throttle
    api_keys: tuple[str, ...]  # logical ids of the ApiKeys bound by UsagePlanKeys


@dataclass(frozen=True)
class ApiKey:
    logical_id: str
    name: str
    value: str | None  # only when the template sets one (this project's never does, R5)
    enabled: bool


@dataclass(frozen=True)
class Function:
    logical_id: str
    name: str | None
    handler: str  # module.function
    runtime: str
    timeout_s: int
    memory_mb: int
    environment: dict[str, Any]  # values may still be intrinsics ({"Ref": "Table"})
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class Api:
    name: str
    stage: str
    methods: dict[str, dict[str, Method]]  # resource path -> HTTP method (or ANY) -> Method
    resource_ids: dict[str, str]  # resource path -> a stable id, for requestContext.resourceId
    gateway_responses: dict[str, GatewayResponse]
    method_settings: tuple[MethodSetting, ...]
    usage_plans: tuple[UsagePlan, ...]
    api_keys: dict[str, ApiKey]
    access_log_format: str | None
    tracing: bool
    binary_media_types: tuple[str, ...]
    stage_variables: dict[str, str]
    function: Function | None
    resources: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    def method_throttle(self, resource_path: str, http_method: str) -> Throttle | None:
        """The stage's throttle for one method: its own MethodSettings entry, else the /*/* default."""
        best: tuple[int, Throttle] | None = None
        for s in self.method_settings:
            if s.throttle is None:
                continue
            if s.resource_path not in ("/*", resource_path) or s.http_method not in ("*", http_method):
                continue
            rank = (s.resource_path != "/*") * 2 + (s.http_method != "*")
            if best is None or rank > best[0]:
                best = (rank, s.throttle)
        return best[1] if best else None


def _throttle(props: Any, rate_key: str, burst_key: str) -> Throttle | None:
    if not isinstance(props, dict) or (rate_key not in props and burst_key not in props):
        return None
    try:
        # API Gateway's defaults when only one of the two is set are the account limits.
        return Throttle(rate_limit=float(props.get(rate_key, 10000)), burst_limit=int(props.get(burst_key, 5000)))
    except (TypeError, ValueError):
        raise ModelError(f"throttle {props!r} is not numeric") from None


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _static_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ModelError(f"{where}: expected a plain string, found {value!r}")
    return value


def _compile(source: Any, where: str) -> vtl.Template:
    try:
        return vtl.Template(_static_text(source, where))
    except vtl.VtlError as exc:
        raise ModelError(f"{where}: mapping template not supported locally: {exc}") from None


class _Reader:
    def __init__(self, template: dict[str, Any]):
        self.resources: dict[str, dict[str, Any]] = {
            k: v for k, v in (template.get("Resources") or {}).items() if isinstance(v, dict)}

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: (v.get("Properties") or {}) for k, v in self.resources.items() if v.get("Type") == type_name}

    def rest_api(self) -> tuple[str, dict[str, Any]]:
        apis = self.of_type("AWS::ApiGateway::RestApi")
        if len(apis) != 1:
            raise ModelError(f"the template must define exactly one AWS::ApiGateway::RestApi, found {len(apis)}")
        return next(iter(apis.items()))

    def resource_paths(self, api_id: str) -> dict[str, str]:
        """Logical id -> full path; "" stands for the root resource (GetAtt RestApi.RootResourceId)."""
        defs = self.of_type("AWS::ApiGateway::Resource")
        paths: dict[str, str] = {}

        def path_of(logical_id: str, seen: tuple[str, ...] = ()) -> str:
            if logical_id in paths:
                return paths[logical_id]
            if logical_id in seen:
                raise ModelError(f"{logical_id}: resource parents form a loop")
            props = defs[logical_id]
            parent = props.get("ParentId")
            part = _static_text(props.get("PathPart"), f"{logical_id}.PathPart")
            if _getatt(parent) == (api_id, "RootResourceId"):
                base = ""
            elif _ref(parent) in defs:
                base = path_of(_ref(parent), seen + (logical_id,))  # type: ignore[arg-type]
            else:
                raise ModelError(f"{logical_id}.ParentId: expected !GetAtt {api_id}.RootResourceId or !Ref of a resource")
            paths[logical_id] = f"{base}/{part}"
            return paths[logical_id]

        for logical_id in defs:
            path_of(logical_id)
        return paths

    def path_of_resource_id(self, value: Any, api_id: str, paths: dict[str, str], where: str) -> str:
        if _getatt(value) == (api_id, "RootResourceId"):
            return "/"
        ref = _ref(value)
        if ref in paths:
            return paths[ref]  # type: ignore[index]
        raise ModelError(f"{where}.ResourceId: expected !Ref of an AWS::ApiGateway::Resource")


def _mock(logical_id: str, integration: dict[str, Any]) -> MockIntegration:
    request_templates = integration.get("RequestTemplates") or {}
    source = request_templates.get("application/json", '{"statusCode": 200}')
    try:
        status = str(json.loads(source).get("statusCode", 200))
    except (ValueError, AttributeError):
        raise ModelError(f"{logical_id}: the MOCK request template must be JSON with a statusCode") from None
    responses = []
    for i, resp in enumerate(integration.get("IntegrationResponses") or []):
        where = f"{logical_id}.Integration.IntegrationResponses[{i}]"
        templates = resp.get("ResponseTemplates") or {}
        responses.append(IntegrationResponse(
            status_code=str(resp.get("StatusCode")),
            selection_pattern=resp.get("SelectionPattern"),
            parameters={k: _static_text(v, f"{where}.ResponseParameters.{k}")
                        for k, v in (resp.get("ResponseParameters") or {}).items()},
            template=_compile(templates["application/json"], f"{where}.ResponseTemplates")
            if "application/json" in templates else None,
        ))
    return MockIntegration(status_code=status, responses=tuple(responses))


def _function_of(uri: Any, where: str) -> str:
    """The logical id of the function a Lambda proxy integration's Uri names (${Fn.Arn} in a !Sub)."""
    text = uri.get("Fn::Sub") if isinstance(uri, dict) else None
    if isinstance(text, list) and text:
        text = text[0]
    m = re.search(r"\$\{([A-Za-z0-9]+)\.Arn\}", text) if isinstance(text, str) else None
    if not m:
        raise ModelError(f"{where}.Integration.Uri: expected !Sub \"...functions/${{Function.Arn}}/invocations\"")
    return m.group(1)


def _resource_id(path: str) -> str:
    """A stable 6-character id per resource path, standing in for API Gateway's resource id."""
    return hashlib.sha256(path.encode()).hexdigest()[:6]


def load(template: dict[str, Any]) -> Api:
    """The served API of a parsed template (blueprint.cfn.loader.loads); ModelError when it cannot be served."""
    reader = _Reader(template)
    api_id, api_props = reader.rest_api()
    if str(api_props.get("ApiKeySourceType", "HEADER")).upper() != "HEADER":
        raise ModelError(f"{api_id}.ApiKeySourceType: only HEADER is served locally")
    paths = reader.resource_paths(api_id)

    validators = {
        k: _bool(v.get("ValidateRequestParameters"))
        for k, v in reader.of_type("AWS::ApiGateway::RequestValidator").items()
    }

    methods: dict[str, dict[str, Method]] = {"/": {}}
    for path in paths.values():
        methods.setdefault(path, {})
    function_ids: set[str] = set()
    for logical_id, props in reader.of_type("AWS::ApiGateway::Method").items():
        path = reader.path_of_resource_id(props.get("ResourceId"), api_id, paths, logical_id)
        verb = _static_text(props.get("HttpMethod"), f"{logical_id}.HttpMethod").upper()
        auth = str(props.get("AuthorizationType", "NONE")).upper()
        if auth not in ("NONE", "COGNITO_USER_POOLS", "AWS_IAM"):
            raise ModelError(f"{logical_id}.AuthorizationType: {auth} is not served locally "
                             f"(NONE, COGNITO_USER_POOLS and AWS_IAM are)")
        integration = props.get("Integration") or {}
        kind = str(integration.get("Type", "")).upper()
        mock = None
        if kind == "AWS_PROXY":
            function_ids.add(_function_of(integration.get("Uri"), logical_id))
        elif kind == "MOCK":
            mock = _mock(logical_id, integration)
        else:
            raise ModelError(f"{logical_id}.Integration.Type: {kind or 'none'} is not served locally "
                             f"(AWS_PROXY to a Lambda function and MOCK are)")
        validator = _ref(props.get("RequestValidatorId"))
        required: list[tuple[str, str]] = []
        if validator and validators.get(validator):
            for key, needed in (props.get("RequestParameters") or {}).items():
                m = re.fullmatch(r"method\.request\.(path|querystring|header)\.(.+)", str(key))
                if m and _bool(needed):
                    required.append((m.group(1), m.group(2)))
        methods[path][verb] = Method(
            logical_id=logical_id, http_method=verb, resource_path=path, resource_id=_resource_id(path),
            api_key_required=_bool(props.get("ApiKeyRequired")), integration=kind,
            timeout_ms=int(integration.get("TimeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT_MS)),
            required_parameters=tuple(required), mock=mock, authorization_type=auth,
            scopes=tuple(_static_text(s, f"{logical_id}.AuthorizationScopes") for s in props.get("AuthorizationScopes") or ()),
        )

    gateway_responses: dict[str, GatewayResponse] = {}
    for logical_id, props in reader.of_type("AWS::ApiGateway::GatewayResponse").items():
        rtype = _static_text(props.get("ResponseType"), f"{logical_id}.ResponseType")
        templates = props.get("ResponseTemplates") or {}
        gateway_responses[rtype] = GatewayResponse(
            response_type=rtype,
            status_code=str(props["StatusCode"]) if props.get("StatusCode") is not None else None,
            parameters={k: _static_text(v, f"{logical_id}.ResponseParameters.{k}")
                        for k, v in (props.get("ResponseParameters") or {}).items()},
            template=_compile(templates["application/json"], f"{logical_id}.ResponseTemplates")
            if "application/json" in templates else None,
        )

    stages = reader.of_type("AWS::ApiGateway::Stage")
    if len(stages) != 1:
        raise ModelError(f"the template must define exactly one AWS::ApiGateway::Stage, found {len(stages)}")
    stage_id, stage = next(iter(stages.items()))
    settings = []
    for s in stage.get("MethodSettings") or []:
        # CloudFormation encodes the resource path's slashes as ~1: /~1items~1{id}
        raw = str(s.get("ResourcePath", "/*"))
        resource_path = raw if raw == "/*" else "/" + raw.lstrip("/").replace("~1", "/")
        settings.append(MethodSetting(resource_path=resource_path, http_method=str(s.get("HttpMethod", "*")).upper(),
                                      throttle=_throttle(s, "ThrottlingRateLimit", "ThrottlingBurstLimit")))
    log_setting = stage.get("AccessLogSetting") or {}

    keys = {
        k: ApiKey(logical_id=k, name=str(v.get("Name", k)), value=v.get("Value") if isinstance(v.get("Value"), str) else None,
                  enabled=_bool(v.get("Enabled", False)))
        for k, v in reader.of_type("AWS::ApiGateway::ApiKey").items()
    }
    bindings: dict[str, list[str]] = {}
    for logical_id, props in reader.of_type("AWS::ApiGateway::UsagePlanKey").items():
        plan, key = _ref(props.get("UsagePlanId")), _ref(props.get("KeyId"))
        if plan and key:
            bindings.setdefault(plan, []).append(key)
    plans = []
    for logical_id, props in reader.of_type("AWS::ApiGateway::UsagePlan").items():
        method_throttles: dict[tuple[str, str], Throttle] = {}
        for api_stage in props.get("ApiStages") or []:
            for key, value in (api_stage.get("Throttle") or {}).items():
                # Keys are "<resource path>/<METHOD>", e.g. /items/{id}/GET
                path, _, verb = str(key).rpartition("/")
                throttle = _throttle(value, "RateLimit", "BurstLimit")
                if throttle:
                    method_throttles[(path or "/", verb.upper())] = throttle
        quota = props.get("Quota")
        plans.append(UsagePlan(
            name=str(props.get("UsagePlanName", logical_id)),
            throttle=_throttle(props.get("Throttle"), "RateLimit", "BurstLimit"),
            quota=Quota(limit=int(quota["Limit"]), period=str(quota.get("Period", "MONTH")).upper(),
                        offset=int(quota.get("Offset", 0))) if isinstance(quota, dict) and "Limit" in quota else None,
            method_throttles=method_throttles,
            api_keys=tuple(bindings.get(logical_id, ())),
        ))

    function = None
    if len(function_ids) > 1:
        raise ModelError(f"the API integrates {len(function_ids)} functions ({', '.join(sorted(function_ids))}); "
                         f"the local API serves one")
    if function_ids:
        fid = next(iter(function_ids))
        fprops = reader.of_type("AWS::Lambda::Function").get(fid)
        if fprops is None:
            raise ModelError(f"the integration names function {fid}, which is not an AWS::Lambda::Function here")
        env = ((fprops.get("Environment") or {}).get("Variables")) or {}
        function = Function(
            logical_id=fid,
            name=fprops.get("FunctionName") if isinstance(fprops.get("FunctionName"), str) else None,
            handler=_static_text(fprops.get("Handler"), f"{fid}.Handler"),
            runtime=str(fprops.get("Runtime", "")),
            timeout_s=int(fprops.get("Timeout", DEFAULT_FUNCTION_TIMEOUT_S)),
            memory_mb=int(fprops.get("MemorySize", DEFAULT_FUNCTION_MEMORY_MB)),
            environment=dict(env),
            reserved_concurrency=int(fprops["ReservedConcurrentExecutions"])
            if isinstance(fprops.get("ReservedConcurrentExecutions"), int) else None,
        )

    variables = stage.get("Variables") or {}
    return Api(
        name=str(api_props.get("Name", api_id)),
        stage=_static_text(stage.get("StageName"), f"{stage_id}.StageName"),
        methods={p: m for p, m in methods.items() if m or p != "/"},
        resource_ids={p: _resource_id(p) for p in methods},
        gateway_responses=gateway_responses,
        method_settings=tuple(settings),
        usage_plans=tuple(plans),
        api_keys=keys,
        access_log_format=log_setting.get("Format") if isinstance(log_setting.get("Format"), str) else None,
        tracing=_bool(stage.get("TracingEnabled")),
        binary_media_types=tuple(str(t) for t in api_props.get("BinaryMediaTypes") or ()),
        stage_variables={str(k): str(v) for k, v in variables.items() if isinstance(v, (str, int, float))},
        function=function,
        resources=reader.resources,
    )
