"""Close the gaps of moto's CloudFormation (moto 5.2.5) that matter for this stack, in the server process.

Each patch is one function registered with `@patch`: a docstring says what moto does wrong and
what the patch does. `apply()` installs them all, once; only `blueprint.local.server` calls it,
so the tool's own process (and plain moto in the canary tests) stays unpatched.

Every patch has two tests in tests/local/patches/: one deploys a stack through a change set over HTTP
to the patched server and reads the result back through the service's API; a canary runs plain
moto and asserts the gap still exists there. When a moto upgrade closes a gap, the canary fails
with "moto now does X itself: remove patch Y".
"""
from __future__ import annotations

import copy
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from moto.apigateway import models as apigw
from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.awslambda import models as awslambda
from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.core.common_models import CloudFormationModel
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.kms import models as kms
from moto.sqs.models import sqs_backends

from blueprint.cfn.schemas import create_only_properties

log = logging.getLogger("blueprint.localaws")

PATCHES: dict[str, Callable[[], None]] = {}
_applied: list[str] = []


def patch(func: Callable[[], None]) -> Callable[[], None]:
    """Register a named patch (the function's name is the patch's name)."""
    PATCHES[func.__name__] = func
    return func


def apply() -> list[str]:
    """Install every patch once (idempotent); returns the names of the installed patches."""
    for name, func in PATCHES.items():
        if name not in _applied:
            func()
            _applied.append(name)
    # moto caches its type -> model map; new CloudFormationModel subclasses need a fresh one.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    return list(_applied)


# --------------------------------------------------------------------------- helpers

def _tags_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's [{Key, Value}] (or a map, as API Gateway's CFN types sometimes take) -> dict."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {t["Key"]: t["Value"] for t in tags}


def _b(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


class _Simple:
    """Shared behaviour of the models this module adds (mixed into direct CloudFormationModel subclasses,
    because moto only finds *direct* subclasses)."""

    TYPE = ""
    ATTRS: tuple[str, ...] = ()

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:  # type: ignore[override]
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRS

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name in self.ATTRS:
            return getattr(self, "attr_" + attribute_name)
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        return None

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        """Default update: delete the old one, create the new one (what a replacement does)."""
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)


def _apigw(account_id: str, region_name: str) -> apigw.APIGatewayBackend:
    return apigw.apigateway_backends[account_id][region_name]


# --------------------------------------------------------------------------- API Gateway

def _apply_stage_properties(stage: apigw.Stage, props: dict[str, Any]) -> None:
    stage.tracing_enabled = _b(props.get("TracingEnabled"))
    stage.description = props.get("Description", "")
    stage.variables = dict(props.get("Variables") or {})
    stage.tags = _tags_dict(props.get("Tags")) or None
    stage.web_acl_arn = None
    als = props.get("AccessLogSetting")
    stage.access_log_settings = (
        {"destinationArn": als.get("DestinationArn"), "format": als.get("Format")} if als else None)
    stage.method_settings = {}
    keys = {
        "LoggingLevel": "logging/loglevel",
        "MetricsEnabled": "metrics/enabled",
        "DataTraceEnabled": "logging/dataTrace",
        "ThrottlingRateLimit": "throttling/rateLimit",
        "ThrottlingBurstLimit": "throttling/burstLimit",
        "CachingEnabled": "caching/enabled",
        "CacheTtlInSeconds": "caching/ttlInSeconds",
        "CacheDataEncrypted": "caching/dataEncrypted",
    }
    ops = []
    for ms in props.get("MethodSettings") or []:
        resource_path = ms.get("ResourcePath", "/*")
        prefix = f"{resource_path}/{ms.get('HttpMethod', '*')}"
        for cfn_key, api_key in keys.items():
            if cfn_key in ms:
                value = ms[cfn_key]
                value = str(value).lower() if isinstance(value, bool) else str(value)
                ops.append({"op": "replace", "path": f"{prefix}/{api_key}", "value": value})
    stage.apply_operations(ops)


class CfnApiGatewayStage(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Stage"

    def __init__(self, rest_api_id: str, name: str):
        self.rest_api_id = rest_api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        name = props.get("StageName") or resource_name
        backend = _apigw(account_id, region_name)
        stage = backend.create_stage(
            props["RestApiId"], name, deploymentId=props.get("DeploymentId"),
            variables=props.get("Variables") or {}, description=props.get("Description", ""),
            cacheClusterEnabled=_b(props.get("CacheClusterEnabled")),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=_tags_dict(props.get("Tags")) or None,
            tracing_enabled=_b(props.get("TracingEnabled")),
        )
        _apply_stage_properties(stage, props)
        return cls(props["RestApiId"], name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        props = cloudformation_json["Properties"]
        name = props.get("StageName") or original_resource.name
        if props["RestApiId"] != original_resource.rest_api_id or name != original_resource.name:
            return super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                           cloudformation_json, account_id, region_name)
        stage = _apigw(account_id, region_name).get_stage(props["RestApiId"], name)
        stage.deployment_id = props.get("DeploymentId")
        stage.cache_cluster_enabled = _b(props.get("CacheClusterEnabled"))
        _apply_stage_properties(stage, props)
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _apigw(account_id, region_name).delete_stage(self.rest_api_id, self.name)
        except Exception:  # the API may be gone already
            pass


class CfnApiGatewayApiKey(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::ApiKey"
    ATTRS = ("APIKeyId",)

    def __init__(self, key_id: str):
        self.key_id = self.attr_APIKeyId = key_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @property
    def physical_resource_id(self) -> str:
        return self.key_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        payload: dict[str, Any] = {
            "name": props.get("Name") or resource_name,
            "description": props.get("Description"),
            "enabled": _b(props.get("Enabled")),
            "generateDistinctId": _b(props.get("GenerateDistinctId")),
            "customerId": props.get("CustomerId"),
            "tags": _tags_dict(props.get("Tags")) or None,
            "stageKeys": [f"{s.get('RestApiId')}/{s.get('StageName')}" for s in props.get("StageKeys") or []],
        }
        if props.get("Value"):
            payload["value"] = props["Value"]
        key = _apigw(account_id, region_name).create_api_key(payload)
        return cls(key.id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        props = cloudformation_json["Properties"]
        key = _apigw(account_id, region_name).get_api_key(original_resource.key_id)
        if props.get("Value") and props["Value"] != key.value or props.get("Name", key.name) != key.name:
            return super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                           cloudformation_json, account_id, region_name)
        key.description = props.get("Description")
        key.enabled = _b(props.get("Enabled"))
        key.tags = _tags_dict(props.get("Tags")) or None
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _apigw(account_id, region_name).delete_api_key(self.key_id)
        except Exception:
            pass


def _usage_plan_payload(props: dict[str, Any], fallback_name: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": props.get("UsagePlanName") or fallback_name,
        "description": props.get("Description"),
        "apiStages": [
            {"apiId": s["ApiId"], "stage": s["Stage"],
             **({"throttle": {k: {"rateLimit": v.get("RateLimit"), "burstLimit": v.get("BurstLimit")}
                              for k, v in s["Throttle"].items()}} if s.get("Throttle") else {})}
            for s in props.get("ApiStages") or []
        ],
        "tags": _tags_dict(props.get("Tags")) or None,
    }
    throttle = props.get("Throttle")
    if throttle:
        payload["throttle"] = {k: v for k, v in {"rateLimit": throttle.get("RateLimit"),
                                                  "burstLimit": throttle.get("BurstLimit")}.items() if v is not None}
    quota = props.get("Quota")
    if quota:
        payload["quota"] = {k: v for k, v in {"limit": quota.get("Limit"), "offset": quota.get("Offset"),
                                               "period": quota.get("Period")}.items() if v is not None}
    return payload


class CfnApiGatewayUsagePlan(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::UsagePlan"
    ATTRS = ("Id",)

    def __init__(self, plan_id: str):
        self.plan_id = self.attr_Id = plan_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return "UsagePlanName"

    @property
    def physical_resource_id(self) -> str:
        return self.plan_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        plan = _apigw(account_id, region_name).create_usage_plan(_usage_plan_payload(props, resource_name))
        return cls(plan.id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        """In place, as CloudFormation does: the plan keeps its id, so its key bindings stay."""
        plan = _apigw(account_id, region_name).get_usage_plan(original_resource.plan_id)
        payload = _usage_plan_payload(cloudformation_json["Properties"], plan.name)
        plan.name = payload["name"]
        plan.description = payload["description"]
        plan.api_stages = payload["apiStages"]
        plan.throttle = payload.get("throttle") or {}
        plan.quota = payload.get("quota") or {}
        plan.tags = payload["tags"]
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _apigw(account_id, region_name)
        backend.usage_plans.pop(self.plan_id, None)
        backend.usage_plan_keys.pop(self.plan_id, None)


class CfnApiGatewayUsagePlanKey(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::UsagePlanKey"
    ATTRS = ("Id",)

    def __init__(self, plan_id: str, key_id: str):
        self.plan_id = plan_id
        self.key_id = key_id
        self.attr_Id = f"{key_id}:{plan_id}"

    @property
    def physical_resource_id(self) -> str:
        return self.key_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        _apigw(account_id, region_name).create_usage_plan_key(
            props["UsagePlanId"], {"keyId": props["KeyId"], "keyType": props.get("KeyType", "API_KEY")})
        return cls(props["UsagePlanId"], props["KeyId"])

    def delete(self, account_id: str, region_name: str) -> None:
        keys = _apigw(account_id, region_name).usage_plan_keys.get(self.plan_id, {})
        keys.pop(self.key_id, None)


class CfnApiGatewayGatewayResponse(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::GatewayResponse"

    def __init__(self, rest_api_id: str, response_type: str):
        self.rest_api_id = rest_api_id
        self.response_type = response_type

    @property
    def physical_resource_id(self) -> str:
        return f"{self.rest_api_id}-{self.response_type}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        _apigw(account_id, region_name).put_gateway_response(
            props["RestApiId"], props["ResponseType"], status_code=props.get("StatusCode"),
            response_parameters=props.get("ResponseParameters"),
            response_templates=props.get("ResponseTemplates"))
        return cls(props["RestApiId"], props["ResponseType"])

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _apigw(account_id, region_name).delete_gateway_response(self.rest_api_id, self.response_type)
        except Exception:
            pass


class CfnApiGatewayRequestValidator(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::RequestValidator"
    ATTRS = ("RequestValidatorId",)

    def __init__(self, rest_api_id: str, validator_id: str):
        self.rest_api_id = rest_api_id
        self.validator_id = self.attr_RequestValidatorId = validator_id

    @property
    def physical_resource_id(self) -> str:
        return self.validator_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        validator = _apigw(account_id, region_name).create_request_validator(
            props["RestApiId"], props.get("Name") or resource_name,
            _b(props.get("ValidateRequestBody")), _b(props.get("ValidateRequestParameters")))
        return cls(props["RestApiId"], validator.id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        props = cloudformation_json["Properties"]
        if props["RestApiId"] != original_resource.rest_api_id:
            return super().update_from_cloudformation_json(original_resource, new_resource_name,
                                                           cloudformation_json, account_id, region_name)
        validator = _apigw(account_id, region_name).get_request_validator(
            original_resource.rest_api_id, original_resource.validator_id)
        validator.name = props.get("Name") or validator.name
        validator.validate_request_body = _b(props.get("ValidateRequestBody"))
        validator.validate_request_parameters = _b(props.get("ValidateRequestParameters"))
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            _apigw(account_id, region_name).delete_request_validator(self.rest_api_id, self.validator_id)
        except Exception:
            pass


class CfnApiGatewayAccount(_Simple, CloudFormationModel):
    TYPE = "AWS::ApiGateway::Account"

    def __init__(self, account_id: str):
        self.account_id = account_id

    @property
    def physical_resource_id(self) -> str:
        return f"ApiGatewayAccount-{self.account_id}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        role = cloudformation_json["Properties"].get("CloudWatchRoleArn")
        if role:
            _apigw(account_id, region_name).update_account(
                [{"op": "replace", "path": "/cloudwatchRoleArn", "value": role}])
        return cls(account_id)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # deleting the resource leaves the account setting, as in AWS


@patch
def apigateway_resource_types() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::ApiGateway::Stage, ApiKey, UsagePlan, UsagePlanKey,
    GatewayResponse, RequestValidator and Account: it skips them with a warning, so the stage, key, plan,
    binding and CORS gateway responses never exist. This patch registers models for them that call
    moto's API Gateway backend (the same calls the REST API makes), with in-place updates where
    CloudFormation updates in place, and deletes."""
    # Defining the classes (above) registered them as CloudFormationModel subclasses; apply() clears
    # moto's cached type map. Nothing else to do.
    return None


@patch
def apigateway_deployment_ref() -> None:
    """moto's AWS::ApiGateway::Deployment has no physical_resource_id, so `Ref: Deployment` resolves to a
    Python object instead of the deployment id (the stage's DeploymentId is garbage). This patch gives
    it `physical_resource_id` = the deployment id."""
    apigw.Deployment.physical_resource_id = property(lambda self: self.id)  # type: ignore[attr-defined]


@patch
def apigateway_method_integration() -> None:
    """moto's AWS::ApiGateway::Method reads Integration.IntegrationHttpMethod and Uri unconditionally: a MOCK
    integration (CORS preflight) raises KeyError and the whole change set fails with HTTP 500. It also
    drops RequestParameters, RequestValidatorId, OperationName, the integration's RequestTemplates,
    PassthroughBehavior, TimeoutInMillis, IntegrationResponses and the MethodResponses. This patch creates
    the method with all of them, through moto's API Gateway backend."""

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        api_id, res_id, verb = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        backend = _apigw(account_id, region_name)
        method = backend.put_method(
            function_id=api_id, resource_id=res_id, method_type=verb,
            authorization_type=props.get("AuthorizationType", "NONE"),
            api_key_required=_b(props.get("ApiKeyRequired")),
            request_parameters=props.get("RequestParameters"),
            request_models=props.get("RequestModels"),
            operation_name=props.get("OperationName"),
            authorizer_id=props.get("AuthorizerId"),
            authorization_scopes=props.get("AuthorizationScopes"),
            request_validator_id=props.get("RequestValidatorId"),
        )
        integration = props.get("Integration")
        if integration:
            backend.put_integration(
                function_id=api_id, resource_id=res_id, method_type=verb,
                integration_type=integration["Type"], uri=integration.get("Uri"),
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
                backend.put_integration_response(
                    function_id=api_id, resource_id=res_id, method_type=verb,
                    status_code=ir["StatusCode"], selection_pattern=ir.get("SelectionPattern"),
                    response_templates=ir.get("ResponseTemplates"),
                    response_parameters=ir.get("ResponseParameters"),
                    content_handling=ir.get("ContentHandling"))
        for mr in props.get("MethodResponses") or []:
            backend.put_method_response(
                function_id=api_id, resource_id=res_id, method_type=verb, response_code=mr["StatusCode"],
                response_models=mr.get("ResponseModels"), response_parameters=mr.get("ResponseParameters"))
        method.cfn_rest_api_id, method.cfn_resource_id = api_id, res_id
        return method

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        try:
            _apigw(account_id, region_name).delete_method(
                original_resource.cfn_rest_api_id, original_resource.cfn_resource_id, original_resource.http_method)
        except Exception:
            pass
        return create(cls, new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id, region_name):  # type: ignore[no-untyped-def]
        try:
            _apigw(account_id, region_name).delete_method(self.cfn_rest_api_id, self.cfn_resource_id, self.http_method)
        except Exception:
            pass  # the resource or API is gone already

    apigw.Method.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign]
    apigw.Method.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign]
    apigw.Method.delete = delete  # type: ignore[attr-defined]
    apigw.Method.physical_resource_id = property(  # type: ignore[attr-defined]
        lambda self: f"{getattr(self, 'cfn_resource_id', '')}-{self.http_method}")


# --------------------------------------------------------------------------- Application Auto Scaling

class CfnScalableTarget(_Simple, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"

    def __init__(self, namespace: str, resource_id: str, dimension: str):
        self.namespace, self.resource_id, self.dimension = namespace, resource_id, dimension

    @property
    def physical_resource_id(self) -> str:
        return f"{self.resource_id}|{self.dimension}|{self.namespace}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        p = cloudformation_json["Properties"]
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"],
            min_capacity=p.get("MinCapacity"), max_capacity=p.get("MaxCapacity"),
            role_arn=p.get("RoleARN"), suspended_state=p.get("SuspendedState"))
        return cls(p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        p = cloudformation_json["Properties"]
        if (p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"]) != (
                original_resource.namespace, original_resource.resource_id, original_resource.dimension):
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            applicationautoscaling_backends[account_id][region_name].deregister_scalable_target(
                self.namespace, self.resource_id, self.dimension)
        except Exception:
            pass


class CfnScalingPolicy(_Simple, CloudFormationModel):
    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    ATTRS = ("Arn",)

    def __init__(self, name: str, namespace: str, resource_id: str, dimension: str, arn: str):
        self.name, self.namespace, self.resource_id, self.dimension = name, namespace, resource_id, dimension
        self.attr_Arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.attr_Arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        p = cloudformation_json["Properties"]
        if p.get("ScalingTargetId"):
            resource_id, dimension, namespace = p["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = p["ResourceId"], p["ScalableDimension"], p["ServiceNamespace"]
        name = p.get("PolicyName") or resource_name
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=name, service_namespace=namespace, resource_id=resource_id,
            scalable_dimension=dimension, policy_type=p.get("PolicyType"),
            policy_body=p.get("StepScalingPolicyConfiguration") or p.get("TargetTrackingScalingPolicyConfiguration"))
        return cls(name, namespace, resource_id, dimension, policy.policy_arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            applicationautoscaling_backends[account_id][region_name].delete_scaling_policy(
                self.name, self.namespace, self.resource_id, self.dimension)
        except Exception:
            pass


@patch
def applicationautoscaling_resource_types() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::ApplicationAutoScaling::ScalableTarget and
    ScalingPolicy (skipped with a warning). This patch registers models that call moto's Application
    Auto Scaling backend; the target's Ref is `resourceId|dimension|namespace` as in AWS."""
    return None


# --------------------------------------------------------------------------- SQS

class CfnQueuePolicy(_Simple, CloudFormationModel):
    TYPE = "AWS::SQS::QueuePolicy"

    def __init__(self, queues: list[str], logical_id: str):
        self.queues = queues
        self.logical_id = logical_id

    @property
    def physical_resource_id(self) -> str:
        return self.logical_id

    @staticmethod
    def _name(queue_url: str) -> str:
        return queue_url.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        p = cloudformation_json["Properties"]
        doc = p["PolicyDocument"]
        for url in p.get("Queues") or []:
            sqs_backends[account_id][region_name].set_queue_attributes(
                cls._name(url), {"Policy": doc if isinstance(doc, str) else json.dumps(doc)})
        return cls(list(p.get("Queues") or []), kwargs.get("LogicalId", resource_name))

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.queues:
            try:
                sqs_backends[account_id][region_name].set_queue_attributes(self._name(url), {"Policy": ""})
            except Exception:
                pass


@patch
def sqs_queue_policy() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::SQS::QueuePolicy (skipped with a warning). This
    patch registers one that sets the queues' Policy attribute (readable with get_queue_attributes)."""
    return None


# --------------------------------------------------------------------------- DynamoDB

def _table_extras(table_name: str, props: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = dynamodb_backends[account_id][region_name]
    table = backend.get_table(table_name)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        current = table.ttl.get("TimeToLiveStatus")
        wanted = _b(ttl.get("Enabled"))
        if wanted or current == "ENABLED":
            backend.update_time_to_live(table_name, {"Enabled": wanted, "AttributeName": ttl["AttributeName"]})
    pitr = props.get("PointInTimeRecoverySpecification")
    enabled = _b((pitr or {}).get("PointInTimeRecoveryEnabled"))
    backend.update_continuous_backups(table_name, {"PointInTimeRecoveryEnabled": enabled})
    table.sse_specification = _sse_for_api(props.get("SSESpecification"))
    if table.sse_specification and "KMSMasterKeyId" not in table.sse_specification:
        table.sse_specification["KMSMasterKeyId"] = table._get_default_encryption_key(account_id, region_name)
    table.deletion_protection_enabled = _b(props.get("DeletionProtectionEnabled"))


def _sse_for_api(sse: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification (SSEEnabled) -> the API's shape (Enabled)."""
    if not sse:
        return None
    out = {"Enabled": _b(sse.get("SSEEnabled", sse.get("Enabled")))}
    if sse.get("SSEType"):
        out["SSEType"] = sse["SSEType"]
    if sse.get("KMSMasterKeyId"):
        out["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
    return out if out["Enabled"] else None


@patch
def dynamodb_table_properties() -> None:
    """moto's AWS::DynamoDB::Table ignores TimeToLiveSpecification and PointInTimeRecoverySpecification,
    and reads SSESpecification with the API's key `Enabled` instead of CloudFormation's `SSEEnabled`, so
    describe_table has no SSEDescription. It also has no update_from_cloudformation_json: a Modify
    replaced the table's entry in the stack with None. This patch applies TTL, PITR, SSE and deletion
    protection on create and update, updates throughput/billing/tags in place, and replaces the table
    (new one, then old one deleted) when its TableName changes."""
    original_create = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        patched = copy.deepcopy(cloudformation_json)
        patched["Properties"].pop("SSESpecification", None)
        table = original_create(cls, resource_name, patched, account_id, region_name, **kwargs)
        _table_extras(table.name, props, account_id, region_name)
        return table

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name:
            new = create(cls, new_resource_name, cloudformation_json, account_id, region_name)
            dynamodb_backends[account_id][region_name].delete_table(original_resource.name)
            return new
        table = original_resource
        table.billing_mode = "PAY_PER_REQUEST" if props.get("BillingMode") == "PAY_PER_REQUEST" else "PROVISIONED"
        if props.get("ProvisionedThroughput"):
            table.throughput = {**table.throughput, **props["ProvisionedThroughput"]}
        if "StreamSpecification" in props:
            table.set_stream_specification(props["StreamSpecification"])
        table.tags = props.get("Tags") or []
        _table_extras(table.name, props, account_id, region_name)
        return table

    Table.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign]
    Table.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign]


# --------------------------------------------------------------------------- Lambda

_LAMBDA_EXTRA = ("TracingConfig", "DeadLetterConfig", "KmsKeyArn", "Architectures", "Tags", "LoggingConfig",
                 "ReservedConcurrentExecutions", "EphemeralStorage")


def _lambda_extras(fn: Any, props: dict[str, Any]) -> None:
    fn.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
    fn.dead_letter_config = props.get("DeadLetterConfig")
    fn.kms_key_arn = props.get("KmsKeyArn")
    fn.architectures = props.get("Architectures") or ["x86_64"]
    fn.tags = _tags_dict(props.get("Tags"))
    fn.logging_config = props.get("LoggingConfig")
    fn.reserved_concurrency = props.get("ReservedConcurrentExecutions")
    if props.get("EphemeralStorage"):
        fn.ephemeral_storage = props["EphemeralStorage"].get("Size", 512)


@patch
def lambda_function_properties() -> None:
    """moto's AWS::Lambda::Function passes only Description, MemorySize, Publish, Timeout, VpcConfig,
    Environment and ReservedConcurrentExecutions to the backend: TracingConfig (X-Ray Active),
    DeadLetterConfig, KmsKeyArn, Architectures, LoggingConfig and Tags are dropped, and moto's Lambda has
    no DeadLetterConfig at all (get_function_configuration never shows one). This patch sets them on
    create and update and adds DeadLetterConfig/LoggingConfig to the function's configuration."""
    cls_ = awslambda.LambdaFunction
    original_create = cls_.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    original_update = cls_.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    original_config = cls_.get_configuration

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        fn = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _lambda_extras(fn, cloudformation_json["Properties"])
        return fn

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        fn = original_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _lambda_extras(fn, cloudformation_json["Properties"])
        return fn

    @functools.wraps(original_config)
    def get_configuration(self, on_create: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        config = original_config(self, on_create=on_create)
        if getattr(self, "dead_letter_config", None):
            config["DeadLetterConfig"] = self.dead_letter_config
        if getattr(self, "logging_config", None):
            config["LoggingConfig"] = self.logging_config
        return config

    cls_.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign]
    cls_.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign]
    cls_.get_configuration = get_configuration  # type: ignore[method-assign]


# --------------------------------------------------------------------------- KMS

@patch
def kms_key_properties() -> None:
    """moto's AWS::KMS::Key passes CloudFormation's Tags ([{Key, Value}]) to create_key, which expects the
    KMS API's [{TagKey, TagValue}]: the change set fails with KeyError 'TagKey' (HTTP 500). It also stores
    a KeyPolicy given as a JSON object (as templates do) as a dict, and every later KMS call on the key
    (DescribeKey, ...) fails with HTTP 500 in moto's policy check. This patch translates the tags and
    serialises the policy."""
    original_create = kms.Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        patched = copy.deepcopy(cloudformation_json)
        policy = patched["Properties"].get("KeyPolicy")
        if policy is not None and not isinstance(policy, str):
            patched["Properties"]["KeyPolicy"] = json.dumps(policy)
        tags = patched["Properties"].get("Tags") or []
        patched["Properties"]["Tags"] = [
            {"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))} for t in tags]
        return original_create(cls, resource_name, patched, account_id, region_name, **kwargs)

    kms.Key.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign]


# --------------------------------------------------------------------------- CloudFormation engine

def _dependency_order(resources: dict[str, Any], names: list[str]) -> list[str]:
    """`names` sorted so that each comes after what it DependsOn / Refs / GetAtts (within `names`)."""
    wanted = set(names)

    def deps(name: str) -> set[str]:
        found: set[str] = set()
        res = resources.get(name) or {}
        d = res.get("DependsOn") or []
        found.update([d] if isinstance(d, str) else d)

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "Ref" and isinstance(v, str):
                        found.add(v)
                    elif k == "Fn::GetAtt":
                        found.add(v[0] if isinstance(v, list) else str(v).split(".")[0])
                    elif k == "Fn::Sub":
                        text = v[0] if isinstance(v, list) else v
                        if isinstance(text, str):
                            import re
                            found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
                        walk(v)
                    else:
                        walk(v)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(res.get("Properties"))
        return found & wanted

    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in seen or name in stack:
            return
        for dep in sorted(deps(name)):
            visit(dep, stack + (name,))
        seen.add(name)
        ordered.append(name)

    for n in names:
        visit(n)
    return ordered


@patch
def change_set_dependency_order() -> None:
    """Executing a change set, moto creates the added resources in template order, ignoring DependsOn:
    an AWS::ApiGateway::Deployment listed before its Methods fails ("The REST API doesn't contain any
    methods"). This patch orders the added (and modified) resources by DependsOn, Ref, GetAtt and Sub."""
    original = parsing.ResourceMap.build_resource_diff

    @functools.wraps(original)
    def build_resource_diff(self, other_template, parameters=None):  # type: ignore[no-untyped-def]
        result = original(self, other_template, parameters)
        resources = other_template.get("Resources", {})
        result["Add"] = _dependency_order(resources, result["Add"])
        result["Modify"] = _dependency_order(resources, result["Modify"])
        return result

    parsing.ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]


@patch
def keep_resources_moto_cannot_update() -> None:
    """When a resource type has no update_from_cloudformation_json in moto (e.g. AWS::ApiGateway::RestApi,
    Deployment, AWS::EC2::VPCEndpoint, AWS::Logs::LogGroup), moto stores None for it after a Modify: the
    stack loses the resource and every later Ref to it resolves to None. This patch keeps the existing
    resource (its properties are not changed: see docs/local-target.md) and logs that in the server log."""
    original = parsing.parse_and_update_resource

    @functools.wraps(original)
    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):  # type: ignore[no-untyped-def]
        result = original(logical_id, resource_json, resources_map, account_id, region_name)
        if result is None:
            existing = resources_map._parsed_resources.get(logical_id)
            if existing is not None:
                log.warning("moto cannot update %s (%s) in place: left unchanged", logical_id,
                            resource_json.get("Type"))
                return existing
        return result

    parsing.parse_and_update_resource = parse_and_update_resource


@patch
def change_set_outputs() -> None:
    """After execute_change_set moto keeps the output map it built for the empty REVIEW_IN_PROGRESS stack:
    describe_stacks shows no Outputs (and no exports) for a stack created or updated through a change
    set. This patch rebuilds the stack's parsed template, description, outputs and exports afterwards."""
    original = cfn_models.CloudFormationBackend.execute_change_set

    @functools.wraps(original)
    def execute_change_set(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
        change_set = self.describe_change_set(change_set_name)
        result = original(self, change_set_name, stack_name)
        stack = self.stacks.get(change_set.stack_id)
        if stack is not None:
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.output_map = stack._create_output_map()
            for export in stack.exports:
                self.exports[export.name] = export
        return result

    cfn_models.CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]


# ---- change-set review details

def _value(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def resource_change_details(resource_type: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, list[str], list[dict[str, Any]]]:
    """(Replacement, Scope, Details) of a Modify, shaped like DescribeChangeSet's ResourceChange."""
    create_only = create_only_properties(resource_type)
    details: list[dict[str, Any]] = []
    scope: list[str] = []
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    for name in sorted(set(old_props) | set(new_props)):
        before, after = old_props.get(name), new_props.get(name)
        if before == after:
            continue
        if name == "Tags":
            attribute, recreation = "Tags", "Never"
        else:
            attribute = "Properties"
            if create_only is None:
                recreation = "Conditionally"
            else:
                recreation = "Always" if name in create_only else "Never"
        if attribute not in scope:
            scope.append(attribute)
        target: dict[str, Any] = {"Attribute": attribute, "RequiresRecreation": recreation}
        if attribute == "Properties":
            target["Name"] = name
        target["_before"] = _value(before)
        target["_after"] = _value(after)
        target["Path"] = f"/Properties/{name}"
        target["AttributeChangeType"] = "Add" if before is None else "Remove" if after is None else "Modify"
        details.append({"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"})
    for key in ("Metadata", "UpdatePolicy", "DeletionPolicy", "UpdateReplacePolicy", "Condition", "DependsOn"):
        if old.get(key) != new.get(key) and key in ("Metadata", "UpdatePolicy"):
            scope.append(key)
            details.append({"Target": {"Attribute": key, "RequiresRecreation": "Never"},
                            "Evaluation": "Static", "ChangeSource": "DirectModification"})
    recreations = {d["Target"]["RequiresRecreation"] for d in details}
    replacement = "True" if "Always" in recreations else "Conditional" if "Conditionally" in recreations else "False"
    return replacement, scope, details


class _ChangeView:
    """One Change as DescribeChangeSet shows it, with or without property values."""

    def __init__(self, change: Any, include_values: bool):
        self.action = change.action
        self.logical_resource_id = change.logical_resource_id
        self.resource_type = change.resource_type
        self.physical_resource_id = getattr(change, "physical_resource_id", None)
        self.scope = getattr(change, "scope", [])
        self.details = []
        for d in getattr(change, "details", []):
            target = {k: v for k, v in d["Target"].items() if not k.startswith("_")}
            if include_values:
                if d["Target"].get("_before") is not None:
                    target["BeforeValue"] = d["Target"]["_before"]
                if d["Target"].get("_after") is not None:
                    target["AfterValue"] = d["Target"]["_after"]
            else:
                target.pop("Path", None)
                target.pop("AttributeChangeType", None)
            self.details.append({**d, "Target": target})
        if getattr(change, "replacement", None) is not None:
            self.replacement = change.replacement
        if include_values:
            if getattr(change, "before_context", None) is not None:
                self.before_context = change.before_context
            if getattr(change, "after_context", None) is not None:
                self.after_context = change.after_context


class _ChangeSetView:
    def __init__(self, change_set: Any, include_values: bool):
        self._change_set = change_set
        self.changes = [_ChangeView(c, include_values) for c in change_set.changes]
        self.include_property_values = include_values

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change_set, name)


@patch
def change_set_review_details() -> None:
    """moto's DescribeChangeSet gives only Action, LogicalResourceId and ResourceType: no Replacement, Scope,
    Details or PhysicalResourceId, even with IncludePropertyValues. This patch computes, for each Modify,
    the changed top-level properties between the stack's template and the new one; a changed property in
    the type's createOnlyProperties (cfn-lint's CloudFormation provider schemas, plus DynamoDB KeySchema
    and LocalSecondaryIndexes) makes RequiresRecreation Always and Replacement True; a type without a
    schema gives Conditionally/Conditional. Details are shaped as AWS's (Target.Attribute Properties or
    Tags, Name, RequiresRecreation, Evaluation Static, ChangeSource DirectModification) and carry
    BeforeValue/AfterValue (template values; intrinsic functions as JSON) and Before/AfterContext only
    with IncludePropertyValues."""
    original_diff = cfn_models.ChangeSet.diff

    @functools.wraps(original_diff)
    def diff(self):  # type: ignore[no-untyped-def]
        changes = original_diff(self)
        old_resources = self.stack.template_dict.get("Resources", {}) if self.stack.template_dict else {}
        new_resources = (self.template_dict or {}).get("Resources", {})
        parsed = self.stack.resource_map._parsed_resources
        for change in changes:
            change.details, change.scope, change.replacement = [], [], None
            name = change.logical_resource_id
            existing = parsed.get(name)
            if change.action in ("Modify", "Remove") and existing is not None and not isinstance(existing, str):
                change.physical_resource_id = getattr(existing, "physical_resource_id", None)
            if change.action == "Modify":
                old, new = old_resources.get(name, {}), new_resources.get(name, {})
                change.replacement, change.scope, change.details = resource_change_details(
                    change.resource_type, old, new)
                change.before_context = json.dumps({"Properties": old.get("Properties") or {}}, sort_keys=True)
                change.after_context = json.dumps({"Properties": new.get("Properties") or {}}, sort_keys=True)
            elif change.action == "Add":
                change.after_context = json.dumps(
                    {"Properties": new_resources.get(name, {}).get("Properties") or {}}, sort_keys=True)
            elif change.action == "Remove":
                change.before_context = json.dumps(
                    {"Properties": old_resources.get(name, {}).get("Properties") or {}}, sort_keys=True)
        return changes

    def describe_change_set(self):  # type: ignore[no-untyped-def]
        change_set = self.cloudformation_backend.describe_change_set(
            change_set_name=self._get_param("ChangeSetName"))
        include = str(self._get_param("IncludePropertyValues", "false")).lower() == "true"
        return cfn_responses.ActionResult(_ChangeSetView(change_set, include))

    cfn_models.ChangeSet.diff = diff  # type: ignore[method-assign]
    cfn_responses.CloudFormationResponse.describe_change_set = describe_change_set  # type: ignore[method-assign]


@patch
def change_set_execution_failure() -> None:
    """When a resource fails while moto executes a change set, moto answers the ExecuteChangeSet call with
    an error (often HTTP 500 or a JSON body boto3 cannot parse) and leaves the stack in
    REVIEW_IN_PROGRESS / UPDATE_IN_PROGRESS forever, so a waiter hangs until timeout. This patch ends
    the execution as CloudFormation does: the call succeeds, the change set is EXECUTE_FAILED, the stack
    goes to ROLLBACK_COMPLETE (create) or UPDATE_ROLLBACK_COMPLETE (update) with a failed event whose
    reason is the error, and the server log has the traceback. Resources created before the failure
    are not rolled back (see docs/local-target.md)."""
    original = cfn_models.CloudFormationBackend.execute_change_set

    @functools.wraps(original)
    def execute_change_set(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
        change_set = self.describe_change_set(change_set_name)
        try:
            return original(self, change_set_name, stack_name)
        except Exception as exc:  # noqa: BLE001 - anything moto raises is a failed resource for CloudFormation
            log.exception("change set %s failed", change_set_name)
            stack = self.stacks[change_set.stack_id]
            creating = change_set.change_set_type == "CREATE"
            reason = f"{type(exc).__name__}: {exc}"
            stack._add_stack_event("CREATE_FAILED" if creating else "UPDATE_FAILED", resource_status_reason=reason)
            stack.status = "ROLLBACK_COMPLETE" if creating else "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event(stack.status)
            change_set.execution_status = "EXECUTE_FAILED"
            change_set.status_reason = reason
            return None

    cfn_models.CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]


# --------------------------------------------------------------------------- EC2 / delete_stack

@patch
def ec2_vpc_deletes() -> None:
    """moto's AWS::EC2::RouteTable, SubnetRouteTableAssociation and VPCEndpoint have no delete: deleting a
    stack with a VPC, its route tables and a DynamoDB gateway endpoint fails with DependencyViolation on
    the VPC. This patch gives them deletes (disassociate, delete the route table, delete the endpoint and
    its routes)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation
    from moto.ec2.models.vpcs import VPCEndPoint

    def delete_route_table(self, account_id, region_name):  # type: ignore[no-untyped-def]
        ec2_backends[account_id][region_name].delete_route_table(self.id)

    def delete_association(self, account_id, region_name):  # type: ignore[no-untyped-def]
        table = ec2_backends[account_id][region_name].route_tables.get(self.route_table_id)
        if table is not None:
            for association_id, subnet_id in list(table._associations.items()):
                if subnet_id == self.subnet_id:
                    table._associations.pop(association_id, None)

    def delete_endpoint(self, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = ec2_backends[account_id][region_name]
        # Its route tables may be gone already (deleted earlier in the same stack deletion).
        self.route_table_ids = [r for r in (self.route_table_ids or []) if r in backend.route_tables]
        backend.delete_vpc_endpoints([self.id])
        backend.vpc_end_points.pop(self.id, None)

    RouteTable.delete = delete_route_table  # type: ignore[attr-defined]
    SubnetRouteTableAssociation.delete = delete_association  # type: ignore[attr-defined]
    VPCEndPoint.delete = delete_endpoint  # type: ignore[attr-defined]


@patch
def delete_stack_failure() -> None:
    """When a resource cannot be deleted, moto's delete_stack raises after it has already removed the stack
    from its list: the call fails and the stack disappears (describe_stacks: "does not exist") while
    its remaining resources live on. This patch keeps the stack, as CloudFormation does: the call
    succeeds, the stack is DELETE_FAILED with the reason in its events, and a later delete_stack retries."""
    original = cfn_models.CloudFormationBackend.delete_stack

    @functools.wraps(original)
    def delete_stack(self, name_or_stack_id):  # type: ignore[no-untyped-def]
        stacks = [s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)]
        try:
            return original(self, name_or_stack_id)
        except Exception as exc:  # noqa: BLE001
            log.exception("delete_stack %s failed", name_or_stack_id)
            for stack in stacks:
                self.stacks[stack.stack_id] = stack
                stack.status = "DELETE_FAILED"
                stack._add_stack_event("DELETE_FAILED", resource_status_reason=f"{type(exc).__name__}: {exc}")
            return None

    cfn_models.CloudFormationBackend.delete_stack = delete_stack  # type: ignore[method-assign]


# --------------------------------------------------------------------------- types moto does not know

NOT_EMULATED_PREFIX = "not-emulated-"


class NotEmulated(CloudFormationModel):
    """A stand-in for a resource of a type the local AWS cannot create."""

    def __init__(self, logical_id: str, resource_type: str):
        self.logical_id = logical_id
        self.resource_type = resource_type

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "Blueprint::LocalAws::NotEmulated"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return f"{NOT_EMULATED_PREFIX}{self.logical_id}.{attribute_name}"

    @property
    def physical_resource_id(self) -> str:
        return f"{NOT_EMULATED_PREFIX}{self.logical_id}"

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        log.warning("%s (%s) is not emulated by the local AWS: it exists only as a placeholder",
                    kwargs.get("LogicalId"), kwargs.get("ResourceType"))
        return cls(kwargs.get("LogicalId", resource_name), kwargs.get("ResourceType", "?"))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json,  # type: ignore[no-untyped-def]
                                        account_id, region_name):
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        return None

    def delete(self, account_id: str, region_name: str) -> None:
        return None


@patch
def unsupported_types_visible() -> None:
    """For a resource type moto has no model for (e.g. AWS::WAFv2::WebACL, AWS::CloudWatch::Alarm,
    AWS::Lambda::EventInvokeConfig), moto logs a warning and skips it: the stack says CREATE_COMPLETE,
    the resource is missing from describe_stack_resources, and every Ref/GetAtt to it resolves to None.
    This patch creates a placeholder instead: the resource is listed with the physical id
    `not-emulated-<LogicalId>` (its Ref; GetAtt gives `not-emulated-<LogicalId>.<Attribute>`), so
    checks that expect the real resource fail visibly instead of passing on nothing, and the server
    log names it."""
    original = parsing.resource_class_from_type

    @functools.wraps(original)
    def resource_class_from_type(resource_type: str):  # type: ignore[no-untyped-def]
        result = original(resource_type)
        if result is None and resource_type not in parsing.NULL_MODELS:
            return NotEmulated
        return result

    parsing.resource_class_from_type = resource_class_from_type
