"""API Gateway (REST): the resource types moto has no CloudFormation model for, Deployment's Ref, Method's integration.

The models call moto's API Gateway backend, the same calls the REST API makes, so what a stack creates
reads back through the service's own API.
"""
from __future__ import annotations

from typing import Any

from moto.apigateway import models as apigw

from blueprint.local.patches.base import Model, add_model, flag, ignore_gone, patch, tags_dict, wrap

# CloudFormation's MethodSetting keys -> the stage's patch-operation paths.
METHOD_SETTING_PATHS = {
    "LoggingLevel": "logging/loglevel",
    "MetricsEnabled": "metrics/enabled",
    "DataTraceEnabled": "logging/dataTrace",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
    "CacheDataEncrypted": "caching/dataEncrypted",
}


def backend(account_id: str, region_name: str) -> apigw.APIGatewayBackend:
    return apigw.apigateway_backends[account_id][region_name]


def _apply_stage_properties(stage: apigw.Stage, props: dict[str, Any]) -> None:
    stage.tracing_enabled = flag(props.get("TracingEnabled"))
    stage.description = props.get("Description", "")
    stage.variables = dict(props.get("Variables") or {})
    stage.tags = tags_dict(props.get("Tags")) or None
    stage.web_acl_arn = None
    als = props.get("AccessLogSetting")
    stage.access_log_settings = (
        {"destinationArn": als.get("DestinationArn"), "format": als.get("Format")} if als else None)
    stage.method_settings = {}
    ops = []
    for ms in props.get("MethodSettings") or []:
        prefix = f"{ms.get('ResourcePath', '/*')}/{ms.get('HttpMethod', '*')}"
        for cfn_key, api_key in METHOD_SETTING_PATHS.items():
            if cfn_key in ms:
                value = ms[cfn_key]
                value = str(value).lower() if isinstance(value, bool) else str(value)
                ops.append({"op": "replace", "path": f"{prefix}/{api_key}", "value": value})
    stage.apply_operations(ops)


class Stage(Model):
    TYPE = "AWS::ApiGateway::Stage"

    def __init__(self, rest_api_id: str, name: str):
        self.rest_api_id = rest_api_id
        self.name = self.physical_resource_id = name

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        stage_name = props.get("StageName") or name
        stage = backend(account_id, region_name).create_stage(
            props["RestApiId"], stage_name, deploymentId=props.get("DeploymentId"),
            variables=props.get("Variables") or {}, description=props.get("Description", ""),
            cacheClusterEnabled=flag(props.get("CacheClusterEnabled")),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=tags_dict(props.get("Tags")) or None,
            tracing_enabled=flag(props.get("TracingEnabled")),
        )
        _apply_stage_properties(stage, props)
        return cls(props["RestApiId"], stage_name)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        stage_name = props.get("StageName") or original.name
        if props["RestApiId"] != original.rest_api_id or stage_name != original.name:
            return cls.replace(original, props, name, account_id, region_name)
        stage = backend(account_id, region_name).get_stage(props["RestApiId"], stage_name)
        stage.deployment_id = props.get("DeploymentId")
        stage.cache_cluster_enabled = flag(props.get("CacheClusterEnabled"))
        _apply_stage_properties(stage, props)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(backend(account_id, region_name).delete_stage, self.rest_api_id, self.name)


class ApiKey(Model):
    TYPE = "AWS::ApiGateway::ApiKey"
    NAME_PROPERTY = "Name"
    ATTRS = ("APIKeyId",)

    def __init__(self, key_id: str):
        self.physical_resource_id = self.attr_APIKeyId = key_id

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        payload: dict[str, Any] = {
            "name": props.get("Name") or name,
            "description": props.get("Description"),
            "enabled": flag(props.get("Enabled")),
            "generateDistinctId": flag(props.get("GenerateDistinctId")),
            "customerId": props.get("CustomerId"),
            "tags": tags_dict(props.get("Tags")) or None,
            "stageKeys": [f"{s.get('RestApiId')}/{s.get('StageName')}" for s in props.get("StageKeys") or []],
        }
        if props.get("Value"):
            payload["value"] = props["Value"]
        return cls(backend(account_id, region_name).create_api_key(payload).id)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        key = backend(account_id, region_name).get_api_key(original.physical_resource_id)
        if props.get("Value") and props["Value"] != key.value or props.get("Name", key.name) != key.name:
            return cls.replace(original, props, name, account_id, region_name)
        key.description = props.get("Description")
        key.enabled = flag(props.get("Enabled"))
        key.tags = tags_dict(props.get("Tags")) or None
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(backend(account_id, region_name).delete_api_key, self.physical_resource_id)


def _limits(cfn: dict[str, Any] | None, keys: dict[str, str]) -> dict[str, Any]:
    """A CloudFormation Throttle/Quota ({RateLimit, ...}) in the API's shape ({rateLimit, ...}), unset keys left out."""
    return {api: cfn[key] for key, api in keys.items() if (cfn or {}).get(key) is not None}


THROTTLE = {"RateLimit": "rateLimit", "BurstLimit": "burstLimit"}
QUOTA = {"Limit": "limit", "Offset": "offset", "Period": "period"}


def _usage_plan_payload(props: dict[str, Any], fallback_name: str) -> dict[str, Any]:
    return {
        "name": props.get("UsagePlanName") or fallback_name,
        "description": props.get("Description"),
        "apiStages": [
            {"apiId": s["ApiId"], "stage": s["Stage"],
             **({"throttle": {k: {"rateLimit": v.get("RateLimit"), "burstLimit": v.get("BurstLimit")}
                              for k, v in s["Throttle"].items()}} if s.get("Throttle") else {})}
            for s in props.get("ApiStages") or []
        ],
        "tags": tags_dict(props.get("Tags")) or None,
        "throttle": _limits(props.get("Throttle"), THROTTLE),
        "quota": _limits(props.get("Quota"), QUOTA),
    }


class UsagePlan(Model):
    TYPE = "AWS::ApiGateway::UsagePlan"
    NAME_PROPERTY = "UsagePlanName"
    ATTRS = ("Id",)

    def __init__(self, plan_id: str):
        self.physical_resource_id = self.attr_Id = plan_id

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        return cls(backend(account_id, region_name).create_usage_plan(_usage_plan_payload(props, name)).id)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        """In place, as CloudFormation does: the plan keeps its id, so its key bindings stay."""
        plan = backend(account_id, region_name).get_usage_plan(original.physical_resource_id)
        payload = _usage_plan_payload(props, plan.name)
        plan.name = payload["name"]
        plan.description = payload["description"]
        plan.api_stages = payload["apiStages"]
        plan.throttle = payload["throttle"]
        plan.quota = payload["quota"]
        plan.tags = payload["tags"]
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        plans = backend(account_id, region_name)
        plans.usage_plans.pop(self.physical_resource_id, None)
        plans.usage_plan_keys.pop(self.physical_resource_id, None)


class UsagePlanKey(Model):
    TYPE = "AWS::ApiGateway::UsagePlanKey"
    ATTRS = ("Id",)

    def __init__(self, plan_id: str, key_id: str):
        self.plan_id = plan_id
        self.physical_resource_id = key_id
        self.attr_Id = f"{key_id}:{plan_id}"

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        backend(account_id, region_name).create_usage_plan_key(
            props["UsagePlanId"], {"keyId": props["KeyId"], "keyType": props.get("KeyType", "API_KEY")})
        return cls(props["UsagePlanId"], props["KeyId"])

    def delete(self, account_id: str, region_name: str) -> None:
        backend(account_id, region_name).usage_plan_keys.get(self.plan_id, {}).pop(self.physical_resource_id, None)


class GatewayResponse(Model):
    TYPE = "AWS::ApiGateway::GatewayResponse"

    def __init__(self, rest_api_id: str, response_type: str):
        self.rest_api_id = rest_api_id
        self.response_type = response_type
        self.physical_resource_id = f"{rest_api_id}-{response_type}"

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        backend(account_id, region_name).put_gateway_response(
            props["RestApiId"], props["ResponseType"], status_code=props.get("StatusCode"),
            response_parameters=props.get("ResponseParameters"),
            response_templates=props.get("ResponseTemplates"))
        return cls(props["RestApiId"], props["ResponseType"])

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(backend(account_id, region_name).delete_gateway_response, self.rest_api_id, self.response_type)


class RequestValidator(Model):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRS = ("RequestValidatorId",)

    def __init__(self, rest_api_id: str, validator_id: str):
        self.rest_api_id = rest_api_id
        self.physical_resource_id = self.attr_RequestValidatorId = validator_id

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        validator = backend(account_id, region_name).create_request_validator(
            props["RestApiId"], props.get("Name") or name,
            flag(props.get("ValidateRequestBody")), flag(props.get("ValidateRequestParameters")))
        return cls(props["RestApiId"], validator.id)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        if props["RestApiId"] != original.rest_api_id:
            return cls.replace(original, props, name, account_id, region_name)
        validator = backend(account_id, region_name).get_request_validator(
            original.rest_api_id, original.physical_resource_id)
        validator.name = props.get("Name") or validator.name
        validator.validate_request_body = flag(props.get("ValidateRequestBody"))
        validator.validate_request_parameters = flag(props.get("ValidateRequestParameters"))
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        ignore_gone(backend(account_id, region_name).delete_request_validator,
                    self.rest_api_id, self.physical_resource_id)


class Account(Model):
    TYPE = "AWS::ApiGateway::Account"

    def __init__(self, account_id: str):
        self.physical_resource_id = f"ApiGatewayAccount-{account_id}"

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        if props.get("CloudWatchRoleArn"):
            backend(account_id, region_name).update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": props["CloudWatchRoleArn"]}])
        return cls(account_id)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        return cls.create(props, name, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # deleting the resource leaves the account setting, as in AWS


@patch
def apigateway_resource_types() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::ApiGateway::Stage, ApiKey, UsagePlan, UsagePlanKey,
    GatewayResponse, RequestValidator and Account: it skips them with a warning, so the stage, key, plan,
    binding and CORS gateway responses never exist. This patch installs models for them that call
    moto's API Gateway backend (the same calls the REST API makes), with in-place updates where
    CloudFormation updates in place, and deletes."""
    for model in (Stage, ApiKey, UsagePlan, UsagePlanKey, GatewayResponse, RequestValidator, Account):
        add_model(model)


@patch
def apigateway_deployment_ref() -> None:
    """moto's AWS::ApiGateway::Deployment has no physical_resource_id, so `Ref: Deployment` resolves to a
    Python object instead of the deployment id (the stage's DeploymentId is garbage). This patch gives
    it `physical_resource_id` = the deployment id."""
    wrap(apigw.Deployment, "physical_resource_id", lambda _none: property(lambda self: self.id))


def _create_method(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
    props = cloudformation_json["Properties"]
    api_id, res_id, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
    at = {"function_id": api_id, "resource_id": res_id, "method_type": verb}
    apis = backend(account_id, region_name)
    method = apis.put_method(
        **at, authorization_type=props.get("AuthorizationType", "NONE"),
        api_key_required=flag(props.get("ApiKeyRequired")),
        request_parameters=props.get("RequestParameters"),
        request_models=props.get("RequestModels"),
        operation_name=props.get("OperationName"),
        authorizer_id=props.get("AuthorizerId"),
        authorization_scopes=props.get("AuthorizationScopes"),
        request_validator_id=props.get("RequestValidatorId"),
    )
    integration = props.get("Integration")
    if integration:
        apis.put_integration(
            **at, integration_type=integration["Type"], uri=integration.get("Uri"),
            integration_method=integration.get("IntegrationHttpMethod"),
            credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            cache_namespace=integration.get("CacheNamespace"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"),
        )
        for ir in integration.get("IntegrationResponses") or []:
            apis.put_integration_response(
                **at, status_code=ir["StatusCode"], selection_pattern=ir.get("SelectionPattern"),
                response_templates=ir.get("ResponseTemplates"),
                response_parameters=ir.get("ResponseParameters"),
                content_handling=ir.get("ContentHandling"))
    for mr in props.get("MethodResponses") or []:
        apis.put_method_response(**at, response_code=mr["StatusCode"], response_models=mr.get("ResponseModels"),
                                 response_parameters=mr.get("ResponseParameters"))
    method.cfn_rest_api_id, method.cfn_resource_id = api_id, res_id
    return method


def _update_method(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
    original_resource.delete(account_id, region_name)
    return _create_method(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _delete_method(self, account_id: str, region_name: str) -> None:
    ignore_gone(backend(account_id, region_name).delete_method, self.cfn_rest_api_id, self.cfn_resource_id,
                self.http_method)


@patch
def apigateway_method_integration() -> None:
    """moto's AWS::ApiGateway::Method reads Integration.IntegrationHttpMethod and Uri unconditionally: a MOCK
    integration (CORS preflight) raises KeyError and the whole change set fails with HTTP 500. It also
    drops RequestParameters, RequestValidatorId, OperationName, the integration's RequestTemplates,
    PassthroughBehavior, TimeoutInMillis, IntegrationResponses and the MethodResponses. This patch creates
    the method with all of them, through moto's API Gateway backend (an update re-creates it)."""
    wrap(apigw.Method, "create_from_cloudformation_json", lambda _moto: _create_method)
    wrap(apigw.Method, "update_from_cloudformation_json", lambda _moto: _update_method)
    wrap(apigw.Method, "delete", lambda _none: _delete_method)
    wrap(apigw.Method, "physical_resource_id",
         lambda _none: property(lambda self: f"{getattr(self, 'cfn_resource_id', '')}-{self.http_method}"))
