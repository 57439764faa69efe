"""CloudFormation drift detection: DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts,
DetectStackResourceDrift.

A resource's expected properties are its template's, resolved as moto resolved them when it created the
stack (the stack's parameters, Refs and GetAtts of its live resources); its actual properties are read
from the service's backend. Only the properties each type's reader knows are compared (READERS); other
types are NOT_CHECKED. Detection is synchronous: it is DETECTION_COMPLETE when DetectStackDrift answers.
"""
from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.apigateway.models import apigateway_backends
from moto.awslambda.utils import get_backend
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.dynamodb.models import dynamodb_backends
from moto.logs.models import logs_backends

from blueprint.local.patches.base import log, patch, wrap

# Paths whose map is the user's whole map: a key found live but not in the template is an ADD.
OPEN_MAPS = ("/Environment/Variables",)
# How items of a list property are matched between template and live resource (else by position).
LIST_KEYS = {"/MethodSettings": ("ResourcePath", "HttpMethod")}


# --------------------------------------------------------------------------- live properties, per type

def _table(account: str, region: str, resource: Any) -> dict[str, Any] | None:
    table = dynamodb_backends[account][region].tables.get(resource.name)
    if table is None:
        return None
    throughput = table.throughput or {}
    return {"BillingMode": table.billing_mode,
            "ProvisionedThroughput": {k: throughput.get(k) for k in ("ReadCapacityUnits", "WriteCapacityUnits")},
            "DeletionProtectionEnabled": bool(getattr(table, "deletion_protection_enabled", False))}


def _function(account: str, region: str, resource: Any) -> dict[str, Any] | None:
    versions = get_backend(account, region)._lambdas._functions.get(resource.function_name) or {}
    fn = versions.get("latest")
    if fn is None:
        return None
    return {"MemorySize": fn.memory_size, "Timeout": fn.timeout, "Handler": fn.handler, "Runtime": fn.run_time,
            "Description": fn.description, "Environment": {"Variables": dict(fn.environment_vars or {})},
            "ReservedConcurrentExecutions": fn.reserved_concurrency}


def _log_group(account: str, region: str, resource: Any) -> dict[str, Any] | None:
    group = logs_backends[account][region].groups.get(resource.physical_resource_id)
    return None if group is None else {"RetentionInDays": group.retention_in_days}


def _method_settings(settings: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """A stage's method settings ("<path>/<method>" -> {throttlingRateLimit, ...}) in CloudFormation's shape."""
    out = []
    for key, values in settings.items():
        path, method = key.rsplit("/", 1)
        entry = {"ResourcePath": "/" + path.lstrip("/").replace("~1", "/"), "HttpMethod": method}
        entry.update({k[0].upper() + k[1:]: v for k, v in values.items()})
        out.append(entry)
    return out


def _stage(account: str, region: str, resource: Any) -> dict[str, Any] | None:
    api = apigateway_backends[account][region].apis.get(resource.rest_api_id)
    stage = None if api is None else api.stages.get(resource.name)
    return None if stage is None else {"MethodSettings": _method_settings(stage.method_settings or {})}


def _usage_plan(account: str, region: str, resource: Any) -> dict[str, Any] | None:
    plan = apigateway_backends[account][region].usage_plans.get(resource.physical_resource_id)
    if plan is None:
        return None
    throttle, quota = plan.throttle or {}, plan.quota or {}
    return {"Throttle": {"RateLimit": throttle.get("rateLimit"), "BurstLimit": throttle.get("burstLimit")},
            "Quota": {"Limit": quota.get("limit"), "Period": quota.get("period"), "Offset": quota.get("offset")}}


# type -> reader(account, region, the stack's resource object) -> the live properties it knows, None when gone
READERS = {
    "AWS::DynamoDB::Table": _table,
    "AWS::Lambda::Function": _function,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::ApiGateway::Stage": _stage,
    "AWS::ApiGateway::UsagePlan": _usage_plan,
}


# --------------------------------------------------------------------------- comparing

def _scalar(value: Any) -> Any:
    """A template value and a live one compare as CloudFormation's typed properties do: "5" == 5 == 5.0,
    "true" == True."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return float(value)
    except ValueError:
        return value


def _text(value: Any) -> str:
    """A value as PropertyDifferences shows it: scalars as text, objects and lists as JSON."""
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _difference(path: str, expected: Any, actual: Any, kind: str) -> dict[str, Any]:
    return {"PropertyPath": path, "ExpectedValue": "" if expected is None else _text(expected),
            "ActualValue": "" if actual is None else _text(actual), "DifferenceType": kind}


def _match_items(path: str, expected: list[Any], actual: list[Any]) -> list[tuple[int | None, int | None]]:
    """Pairs of (template index, live index): by LIST_KEYS' identity where the path has one, else by position."""
    keys = LIST_KEYS.get(path)
    if not keys:
        n = max(len(expected), len(actual))
        return [(i if i < len(expected) else None, i if i < len(actual) else None) for i in range(n)]

    def identity(item: Any) -> Any:
        return tuple(item.get(k) for k in keys) if isinstance(item, dict) else item
    live = {identity(a): j for j, a in enumerate(actual)}
    pairs: list[tuple[int | None, int | None]] = [(i, live.pop(identity(e), None)) for i, e in enumerate(expected)]
    return pairs + [(None, j) for j in sorted(live.values())]


def compare(path: str, expected: Any, actual: Any) -> list[dict[str, Any]]:
    """The differences between a template value and the live one, as PropertyDifferences.

    A map compares the keys the template sets (a key only live is an ADD only in OPEN_MAPS: elsewhere it
    is a default the template did not choose); a list compares its items (see _match_items)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key, value in expected.items():
            if actual.get(key) is None and value is not None:
                found.append(_difference(f"{path}/{key}", value, None, "REMOVE"))
            else:
                found += compare(f"{path}/{key}", value, actual.get(key))
        if path in OPEN_MAPS:
            found += [_difference(f"{path}/{k}", None, v, "ADD") for k, v in actual.items() if k not in expected]
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        for i, j in _match_items(path, expected, actual):
            if j is None:
                found.append(_difference(f"{path}/{i}", expected[i], None, "REMOVE"))
            elif i is None:
                found.append(_difference(f"{path}/{j}", None, actual[j], "ADD"))
            else:
                found += compare(f"{path}/{i}", expected[i], actual[j])
        return found
    if _scalar(expected) == _scalar(actual):
        return []
    return [_difference(path, expected, actual, "REMOVE" if actual is None else "NOT_EQUAL")]


# --------------------------------------------------------------------------- detection

def _now() -> datetime:
    return datetime.now(timezone.utc)


def resource_drift(stack: Any, logical_id: str) -> dict[str, Any]:
    """One resource's StackResourceDrift, checked now."""
    resource_json = stack.template_dict["Resources"][logical_id]
    resource = stack.resource_map._parsed_resources.get(logical_id)
    drift: dict[str, Any] = {
        "StackId": stack.stack_id, "LogicalResourceId": logical_id, "ResourceType": resource_json["Type"],
        "PhysicalResourceId": getattr(resource, "physical_resource_id", None), "Timestamp": _now()}
    reader = READERS.get(resource_json["Type"])
    if reader is None:
        return {**drift, "StackResourceDriftStatus": "NOT_CHECKED"}
    try:
        expected = parsing.clean_json(copy.deepcopy(resource_json.get("Properties") or {}), stack.resource_map)
        live = reader(stack.account_id, stack.region_name, resource)
    except Exception as exc:  # noqa: BLE001 - a resource moto cannot read back is one CloudFormation cannot judge
        log.exception("drift of %s (%s) could not be read", logical_id, resource_json["Type"])
        return {**drift, "StackResourceDriftStatus": "UNKNOWN", "DriftStatusReason": f"{type(exc).__name__}: {exc}"}
    drift["ExpectedProperties"] = json.dumps(expected, sort_keys=True, default=str)
    if live is None:
        return {**drift, "StackResourceDriftStatus": "DELETED", "PropertyDifferences": []}
    checked = {name: value for name, value in expected.items() if name in live}
    differences = sorted((d for name, value in checked.items() for d in compare(f"/{name}", value, live[name])),
                         key=lambda d: d["PropertyPath"])
    actual = {**expected, **{name: live[name] for name in checked}}
    drift["ActualProperties"] = json.dumps(actual, sort_keys=True, default=str)
    return {**drift, "PropertyDifferences": differences,
            "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC"}


def _records(backend: Any) -> dict[str, Any]:
    """This region's drift results: detections by id, and each stack's latest result per resource."""
    if not hasattr(backend, "blueprint_drift"):
        backend.blueprint_drift = {"detections": {}, "resources": {}}
    return backend.blueprint_drift


def detect(backend: Any, stack_name: str, logical_ids: list[str] | None) -> dict[str, Any]:
    """Check the stack's resources (or those named), store the results, return the detection's status."""
    stack = backend.get_stack(stack_name)
    resources = stack.template_dict.get("Resources") or {}
    names = list(logical_ids or [])
    unknown = [n for n in names if n not in resources]
    if unknown:
        raise ValidationError(message=f"Resource(s) {unknown} do not exist in stack {stack.name}")
    records = _records(backend)
    latest = records["resources"].setdefault(stack.stack_id, {})
    checked = [n for n in names or resources if stack.resource_map._parsed_resources.get(n) is not None]
    for name in checked:
        latest[name] = resource_drift(stack, name)
    drifted = sum(latest[n]["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for n in checked)
    status = {"StackId": stack.stack_id, "StackDriftDetectionId": str(uuid.uuid4()),
              "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC", "DetectionStatus": "DETECTION_COMPLETE",
              "DetectionStatusReason": "Stack drift detection is complete.",
              "DriftedStackResourceCount": drifted, "Timestamp": _now()}
    records["detections"][status["StackDriftDetectionId"]] = status
    stack.drift_information = {"StackDriftStatus": status["StackDriftStatus"], "LastCheckTimestamp": status["Timestamp"]}
    return status


def _detect_stack_drift(self):  # type: ignore[no-untyped-def]
    status = detect(self.cloudformation_backend, self._get_param("StackName"), self._get_param("LogicalResourceIds"))
    return cfn_responses.ActionResult({"StackDriftDetectionId": status["StackDriftDetectionId"]})


def _describe_stack_drift_detection_status(self):  # type: ignore[no-untyped-def]
    detection_id = self._get_param("StackDriftDetectionId")
    status = _records(self.cloudformation_backend)["detections"].get(detection_id)
    if status is None:
        raise ValidationError(message=f"Drift detection {detection_id} does not exist")
    return cfn_responses.ActionResult(status)


def _describe_stack_resource_drifts(self):  # type: ignore[no-untyped-def]
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    wanted = self._get_param("StackResourceDriftStatusFilters") or []
    drifts = _records(self.cloudformation_backend)["resources"].get(stack.stack_id, {}).values()
    return cfn_responses.ActionResult({"StackResourceDrifts": [
        d for d in drifts if not wanted or d["StackResourceDriftStatus"] in wanted]})


def _detect_stack_resource_drift(self):  # type: ignore[no-untyped-def]
    backend = self.cloudformation_backend
    stack = backend.get_stack(self._get_param("StackName"))
    logical_id = self._get_param("LogicalResourceId")
    detect(backend, stack.stack_id, [logical_id])
    drift = _records(backend)["resources"][stack.stack_id].get(logical_id)
    if drift is None:  # in the template, but not in the stack (a false Condition)
        raise ValidationError(message=f"Resource {logical_id} does not exist for stack {stack.name}")
    return cfn_responses.ActionResult({"StackResourceDrift": drift})


@patch
def drift_detection() -> None:
    """moto 5.2.5 has none of CloudFormation's drift API: DetectStackDrift, DescribeStackDriftDetectionStatus,
    DescribeStackResourceDrifts and DetectStackResourceDrift answer NotImplementedError (HTTP 500). This
    patch implements them: each resource's template properties (resolved with the stack's parameters and
    live references) are compared with the live resource for DynamoDB Table (BillingMode,
    ProvisionedThroughput, DeletionProtectionEnabled), Lambda Function (MemorySize, Timeout, Handler,
    Runtime, Description, Environment.Variables, ReservedConcurrentExecutions), Logs LogGroup
    (RetentionInDays), ApiGateway Stage (MethodSettings, matched by ResourcePath and HttpMethod) and
    UsagePlan (Throttle, Quota); other types are NOT_CHECKED. Results have AWS's shapes (IN_SYNC, MODIFIED,
    DELETED; PropertyDifferences with PropertyPath, ExpectedValue, ActualValue and DifferenceType ADD,
    REMOVE or NOT_EQUAL), detection completes at once (DETECTION_COMPLETE) and describe_stacks shows the
    stack's DriftInformation."""
    responses = cfn_responses.CloudFormationResponse
    wrap(responses, "detect_stack_drift", lambda _none: _detect_stack_drift)
    wrap(responses, "describe_stack_drift_detection_status", lambda _none: _describe_stack_drift_detection_status)
    wrap(responses, "describe_stack_resource_drifts", lambda _none: _describe_stack_resource_drifts)
    wrap(responses, "detect_stack_resource_drift", lambda _none: _detect_stack_resource_drift)
