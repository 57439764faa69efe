"""Lambda: the Function properties moto's CloudFormation drops, the configuration fields moto never shows, the
account's settings (GetAccountSettings) and its concurrency quota."""
from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

from moto.awslambda import urls as lambda_urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.awslambda.utils import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal import urls as moto_api_urls

from blueprint.local.patches.base import patch, tags_dict, wrap


def _set_extras(fn: Any, props: dict[str, Any]) -> Any:
    fn.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
    fn.dead_letter_config = props.get("DeadLetterConfig")
    fn.kms_key_arn = props.get("KmsKeyArn")
    fn.architectures = props.get("Architectures") or ["x86_64"]
    fn.tags = tags_dict(props.get("Tags"))
    fn.logging_config = props.get("LoggingConfig")
    fn.reserved_concurrency = props.get("ReservedConcurrentExecutions")
    if props.get("EphemeralStorage"):
        fn.ephemeral_storage = props["EphemeralStorage"].get("Size", 512)
    return fn


@patch
def lambda_function_properties() -> None:
    """moto's AWS::Lambda::Function passes only Description, MemorySize, Publish, Timeout, VpcConfig,
    Environment and ReservedConcurrentExecutions to the backend: TracingConfig (X-Ray Active),
    DeadLetterConfig, KmsKeyArn, Architectures, LoggingConfig and Tags are dropped, and moto's Lambda has
    no DeadLetterConfig at all (get_function_configuration never shows one). This patch sets them on
    create and update and adds DeadLetterConfig/LoggingConfig to the function's configuration."""

    def make_create(original):  # type: ignore[no-untyped-def]
        def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
            return _set_extras(fn, cloudformation_json["Properties"])
        return create

    def make_update(original):  # type: ignore[no-untyped-def]
        def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
            fn = original(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
            return _set_extras(fn, cloudformation_json["Properties"])
        return update

    def make_get_configuration(original):  # type: ignore[no-untyped-def]
        def get_configuration(self, on_create: bool = False) -> dict[str, Any]:  # type: ignore[no-untyped-def]
            config = original(self, on_create=on_create)
            if getattr(self, "dead_letter_config", None):
                config["DeadLetterConfig"] = self.dead_letter_config
            if getattr(self, "logging_config", None):
                config["LoggingConfig"] = self.logging_config
            return config
        return get_configuration

    wrap(LambdaFunction, "create_from_cloudformation_json", make_create)
    wrap(LambdaFunction, "update_from_cloudformation_json", make_update)
    wrap(LambdaFunction, "get_configuration", make_get_configuration)


# --------------------------------------------------------------------------- account concurrency

# AWS's default quotas (Lambda quotas page); ConcurrentExecutions is a per-account, per-region quota.
DEFAULT_CONCURRENT_EXECUTIONS = 1000
CODE_LIMITS = {"TotalCodeSize": 80_530_636_800, "CodeSizeUnzipped": 262_144_000, "CodeSizeZipped": 52_428_800}
UNRESERVED_FLOOR = 100
SETTINGS_ROUTE = r"{0}/(?P<api_version>[^/]+)/account-settings/?$"
QUOTA_ROUTE = "{0}/moto-api/blueprint/lambda/concurrent-executions"
# (account id, region) -> ConcurrentExecutions, as set through QUOTA_ROUTE; others get default_quota().
QUOTAS: dict[tuple[str, str], int] = {}


def default_quota() -> int:
    """moto's own knob for its (otherwise off) check, read when asked; AWS's default 1000 without it."""
    return int(os.environ.get("MOTO_LAMBDA_CONCURRENCY_QUOTA") or DEFAULT_CONCURRENT_EXECUTIONS)


def account_quota(account_id: str, region: str) -> int:
    return QUOTAS.get((account_id, region), default_quota())


def _functions(backend: Any) -> list[Any]:
    """The account's functions in the backend's region ($LATEST; reserved concurrency is per function)."""
    return list(backend._lambdas.latest())


def reserved_elsewhere(backend: Any, function_name: str | None) -> int:
    """Reserved concurrency of every function in the region except `function_name`."""
    return sum(int(fn.reserved_concurrency or 0) for fn in _functions(backend) if fn.function_name != function_name)


class ReservedConcurrencyRefused(InvalidParameterValueException):
    """Lambda's answer (HTTP 400) to a reservation that leaves too little unreserved; its text, as a
    CloudFormation resource failure (what the stack's failed event carries), is CloudFormation's wording."""

    def __str__(self) -> str:
        return (f'Resource handler returned message: "{self.message} (Service: Lambda, Status Code: 400)" '
                "(HandlerErrorCode: InvalidRequest)")


def check_reservation(backend: Any, function_name: str | None, wanted: Any) -> None:
    """Refuse a reservation that would leave less than the floor unreserved, as Lambda does.

    The floor is 100, or the account's whole quota when that is lower: accounts at 10 or 50 report
    `[10]`/`[50]` in the message (docs/local-target.md), so they cannot reserve anything."""
    if wanted is None or int(wanted) <= 0:
        return
    quota = account_quota(backend.account_id, backend.region_name)
    floor = min(UNRESERVED_FLOOR, quota)
    if quota - reserved_elsewhere(backend, function_name) - int(wanted) < floor:
        raise ReservedConcurrencyRefused(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
            f"below its minimum value of [{floor}].")


def account_settings(backend: Any) -> dict[str, Any]:
    """GetAccountSettings' answer for the backend's account and region."""
    quota = account_quota(backend.account_id, backend.region_name)
    functions = _functions(backend)
    versions = [v for group in backend._lambdas._functions.values() for v in group["versions"]]
    layers = [lv for layer in backend._layers._layers.values() for lv in layer.layer_versions.values()]
    return {
        "AccountLimit": {**CODE_LIMITS, "ConcurrentExecutions": quota,
                         "UnreservedConcurrentExecutions": quota - reserved_elsewhere(backend, None)},
        "AccountUsage": {"TotalCodeSize": sum(int(x.code_size or 0) for x in [*functions, *versions, *layers]),
                         "FunctionCount": len(functions)},
    }


def _get_account_settings(self):  # type: ignore[no-untyped-def]
    return 200, {}, json.dumps(account_settings(self.backend))


def _set_quota(request: Any, full_url: str, headers: Any):  # type: ignore[no-untyped-def]
    """POST {"ConcurrentExecutions": n, "region": ..., "account_id": ...} as JSON (or as form fields); n null
    or absent = the default again. Answers the quota now in force, or HTTP 400 naming what is wrong."""
    data = (request.get_data() or b"").decode("utf-8")
    try:
        body = json.loads(data) if data.lstrip().startswith("{") else {k: v[-1] for k, v in parse_qs(data).items()}
        wanted = body.get("ConcurrentExecutions")
        n = None if wanted in (None, "", "null") else int(wanted)
    except (ValueError, TypeError, AttributeError) as exc:
        return 400, {}, f"expected {{\"ConcurrentExecutions\": <integer or null>, \"region\": ...}}: {exc}"
    key = (str(body.get("account_id") or DEFAULT_ACCOUNT_ID), str(body.get("region") or "us-east-1"))
    if n is None:
        QUOTAS.pop(key, None)
    else:
        QUOTAS[key] = n
    return 200, {"Content-Type": "application/json"}, json.dumps(
        {"account_id": key[0], "region": key[1], "ConcurrentExecutions": account_quota(*key)})


@patch
def lambda_account_settings() -> None:
    """moto 5.2.5 has no route for Lambda's GetAccountSettings (GET /2016-08-19/account-settings/): the
    call gets an HTTP 404, so nothing can read the account's concurrency quota or what is left unreserved.
    This patch adds the route and answers AccountLimit (AWS's code-size limits, ConcurrentExecutions,
    UnreservedConcurrentExecutions = the quota minus every function's reserved concurrency in the
    region) and AccountUsage (TotalCodeSize, FunctionCount). The quota is 1000 (AWS's default, or
    MOTO_LAMBDA_CONCURRENCY_QUOTA in the server's environment), and tests set it per account and region
    with POST /moto-api/blueprint/lambda/concurrent-executions (docs/local-target.md)."""
    wrap(lambda_urls, "url_paths", lambda paths: {**paths, SETTINGS_ROUTE: LambdaResponse.dispatch})
    wrap(LambdaResponse, "get_account_settings", lambda _none: _get_account_settings)
    wrap(moto_api_urls, "url_paths", lambda paths: {**paths, QUOTA_ROUTE: _set_quota})


@patch
def lambda_reserved_concurrency_floor() -> None:
    """moto checks a reservation against the account's quota only in PutFunctionConcurrency and only when
    MOTO_LAMBDA_CONCURRENCY_QUOTA is set, and never for a function's ReservedConcurrentExecutions from
    CloudFormation: a stack reserves any amount. AWS refuses a reservation that leaves less than 100 (or
    the whole quota, when smaller) unreserved: InvalidParameterValueException "Specified
    ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its
    minimum value of [100]." This patch makes that check, against lambda_account_settings' quota, in
    PutFunctionConcurrency and before a function is created or updated with ReservedConcurrentExecutions
    (so the stack's create or update fails with that message and the function is not created)."""

    def make_put(original):  # type: ignore[no-untyped-def]
        def put_function_concurrency(self, function_name, reserved_concurrency):  # type: ignore[no-untyped-def]
            check_reservation(self, self.get_function(function_name).function_name, reserved_concurrency)
            fn = self.get_function(function_name)
            fn.reserved_concurrency = reserved_concurrency  # moto's own check (env var, fixed [100]) is replaced
            return fn.reserved_concurrency
        return put_function_concurrency

    def make_create(original):  # type: ignore[no-untyped-def]
        def create_function(self, spec):  # type: ignore[no-untyped-def]
            check_reservation(self, spec.get("FunctionName"), spec.get("ReservedConcurrentExecutions"))
            return original(self, spec)
        return create_function

    def make_update(original):  # type: ignore[no-untyped-def]
        def update_configuration(self, config_updates):  # type: ignore[no-untyped-def]
            if "ReservedConcurrentExecutions" in config_updates:  # CloudFormation's update passes every property
                check_reservation(get_backend(self.account_id, self.region), self.function_name,
                                  config_updates["ReservedConcurrentExecutions"])
            return original(self, config_updates)
        return update_configuration

    wrap(LambdaBackend, "put_function_concurrency", make_put)
    wrap(LambdaBackend, "create_function", make_create)
    wrap(LambdaFunction, "update_configuration", make_update)
