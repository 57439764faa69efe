"""The CloudFormation engine: change-set review and execution, resource order and updates, stack deletion, unknown types.

Differences between templates come from blueprint.cfn.diff and references from blueprint.cfn.refs,
so the local AWS reviews and orders a change exactly as the offline plan sees it.
"""
from __future__ import annotations

import json
import threading
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import CloudFormationError

from blueprint.cfn.diff import RESOURCE_ATTRIBUTES, diff_resource
from blueprint.cfn.refs import dependencies
from blueprint.local.patches.base import Model, add_model, log, patch, wrap

# The resource attributes besides Properties and Tags that DescribeChangeSet lists as a changed Target.
SHOWN_ATTRIBUTES = ("Metadata", "UpdatePolicy")
# A Target's keys that only IncludePropertyValues shows.
VALUE_KEYS = ("BeforeValue", "AfterValue", "Path", "AttributeChangeType")
REPLACEMENT = {"True": "True", "False": "False", None: "Conditional"}  # a prediction -> AWS's Replacement
NOT_EMULATED_PREFIX = "not-emulated-"


# --------------------------------------------------------------------------- change-set review

def _value(v: Any) -> str | None:
    """A template value as DescribeChangeSet's Before/AfterValue string (intrinsic functions as JSON)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"))


def _target(name: str, before: Any, after: Any, recreation: str) -> dict[str, Any]:
    if name in RESOURCE_ATTRIBUTES:
        return {"Attribute": name, "RequiresRecreation": "Never"}
    target: dict[str, Any] = {"Attribute": "Tags"} if name == "Tags" else {"Attribute": "Properties", "Name": name}
    # Without a schema nothing tells whether the change replaces: AWS's answer for that is Conditionally.
    target["RequiresRecreation"] = recreation or "Conditionally"
    for key, value in (("BeforeValue", _value(before)), ("AfterValue", _value(after))):
        if value is not None:
            target[key] = value
    target["Path"] = f"/Properties/{name}"
    target["AttributeChangeType"] = "Add" if before is None else "Remove" if after is None else "Modify"
    return target


def resource_change_details(logical_id: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, list[str], list[dict[str, Any]]]:
    """(Replacement, Scope, Details) of a Modify, shaped like DescribeChangeSet's ResourceChange."""
    changed = diff_resource(logical_id, old, new)
    if changed is None:
        return "False", [], []
    scope: list[str] = []
    details: list[dict[str, Any]] = []
    for p in changed.properties:
        if p.name in RESOURCE_ATTRIBUTES and p.name not in SHOWN_ATTRIBUTES:
            continue
        target = _target(p.name, p.before, p.after, p.requires_recreation)
        if target["Attribute"] not in scope:
            scope.append(target["Attribute"])
        details.append({"Target": target, "Evaluation": "Static", "ChangeSource": "DirectModification"})
    return REPLACEMENT[changed.predicted_replacement], scope, details


def _context(resource: dict[str, Any]) -> str:
    return json.dumps({"Properties": resource.get("Properties") or {}}, sort_keys=True)


class _ChangeView:
    """One Change as DescribeChangeSet shows it, with or without property values."""

    def __init__(self, change: Any, include_values: bool):
        self.action = change.action
        self.logical_resource_id = change.logical_resource_id
        self.resource_type = change.resource_type
        self.physical_resource_id = getattr(change, "physical_resource_id", None)
        self.scope = getattr(change, "scope", [])
        self.details = [
            {**d, "Target": {k: v for k, v in d["Target"].items() if include_values or k not in VALUE_KEYS}}
            for d in getattr(change, "details", [])]
        if getattr(change, "replacement", None) is not None:
            self.replacement = change.replacement
        for context in ("before_context", "after_context"):
            if include_values and getattr(change, context, None) is not None:
                setattr(self, context, getattr(change, context))


class _ChangeSetView:
    def __init__(self, change_set: Any, include_values: bool):
        self._change_set = change_set
        self.changes = [_ChangeView(c, include_values) for c in change_set.changes]
        self.include_property_values = include_values

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change_set, name)


def _make_diff(original):  # type: ignore[no-untyped-def]
    def diff(self):  # type: ignore[no-untyped-def]
        changes = original(self)
        old_resources = (self.stack.template_dict or {}).get("Resources", {})
        new_resources = (self.template_dict or {}).get("Resources", {})
        parsed = self.stack.resource_map._parsed_resources
        for change in changes:
            change.details, change.scope, change.replacement = [], [], None
            name = change.logical_resource_id
            existing = parsed.get(name)
            if change.action in ("Modify", "Remove") and existing is not None and not isinstance(existing, str):
                change.physical_resource_id = getattr(existing, "physical_resource_id", None)
            old, new = old_resources.get(name, {}), new_resources.get(name, {})
            if change.action == "Modify":
                change.replacement, change.scope, change.details = resource_change_details(name, old, new)
            if change.action in ("Modify", "Remove"):
                change.before_context = _context(old)
            if change.action in ("Modify", "Add"):
                change.after_context = _context(new)
        return changes
    return diff


def _describe_change_set(self):  # type: ignore[no-untyped-def]
    change_set = self.cloudformation_backend.describe_change_set(change_set_name=self._get_param("ChangeSetName"))
    include = str(self._get_param("IncludePropertyValues", "false")).lower() == "true"
    return cfn_responses.ActionResult(_ChangeSetView(change_set, include))


@patch
def change_set_review_details() -> None:
    """moto's DescribeChangeSet gives only Action, LogicalResourceId and ResourceType: no Replacement, Scope,
    Details or PhysicalResourceId, even with IncludePropertyValues. This patch takes each Modify's changed
    top-level properties from blueprint.cfn.diff (the offline plan's diff, whose recreation comes from
    cfn-lint's provider schemas: a create-only property makes RequiresRecreation Always and Replacement
    True; a type without a schema gives Conditionally/Conditional) and shapes them as AWS's Details
    (Target.Attribute Properties or Tags, Name, RequiresRecreation, Evaluation Static, ChangeSource
    DirectModification), with BeforeValue/AfterValue (template values; intrinsic functions as JSON) and
    Before/AfterContext only with IncludePropertyValues."""
    wrap(cfn_models.ChangeSet, "diff", _make_diff)
    wrap(cfn_responses.CloudFormationResponse, "describe_change_set", lambda _moto: _describe_change_set)


# --------------------------------------------------------------------------- change-set execution

def _fail_execution(backend: Any, change_set: Any, exc: Exception) -> None:
    log.exception("change set %s failed", change_set.change_set_name)
    stack = backend.stacks[change_set.stack_id]
    creating = change_set.change_set_type == "CREATE"
    reason = f"{type(exc).__name__}: {exc}"
    stack._add_stack_event("CREATE_FAILED" if creating else "UPDATE_FAILED", resource_status_reason=reason)
    stack.status = "ROLLBACK_COMPLETE" if creating else "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event(stack.status)
    change_set.execution_status = "EXECUTE_FAILED"
    change_set.status_reason = reason


def _rebuild_outputs(backend: Any, stack: Any) -> None:
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for export in stack.exports:
        backend.exports[export.name] = export


def _make_execute_change_set(original):  # type: ignore[no-untyped-def]
    def execute_change_set(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
        change_set = self.describe_change_set(change_set_name)
        try:
            original(self, change_set_name, stack_name)
        except Exception as exc:  # noqa: BLE001 - anything moto raises is a failed resource for CloudFormation
            _fail_execution(self, change_set, exc)
            return None
        stack = self.stacks.get(change_set.stack_id)
        if stack is not None:
            _rebuild_outputs(self, stack)
        return None
    return execute_change_set


@patch
def change_set_execution() -> None:
    """Two gaps of moto's execute_change_set. When a resource fails, moto answers the ExecuteChangeSet call
    with an error (often HTTP 500 or a JSON body boto3 cannot parse) and leaves the stack in
    REVIEW_IN_PROGRESS / UPDATE_IN_PROGRESS forever, so a waiter hangs until timeout. And when it succeeds,
    moto keeps the output map it built for the empty REVIEW_IN_PROGRESS stack: describe_stacks shows no
    Outputs (and no exports). This patch ends a failed execution as CloudFormation does (the call succeeds,
    the change set is EXECUTE_FAILED, the stack ROLLBACK_COMPLETE on create or UPDATE_ROLLBACK_COMPLETE on
    update, with a failed event whose reason is the error, and the traceback in the server log; resources
    created before the failure are not rolled back, see docs/local-target.md), and after a successful one
    rebuilds the stack's parsed template, description, outputs and exports."""
    wrap(cfn_models.CloudFormationBackend, "execute_change_set", _make_execute_change_set)


class InvalidChangeSetStatus(CloudFormationError):
    """AWS's answer (HTTP 400) to executing a change set that is not CREATE_COMPLETE and AVAILABLE."""

    code = "InvalidChangeSetStatus"


# The local AWS serves requests on many threads without moto's lock (blueprint.local.fast): checking a
# change set's status and claiming it must be one step, or two concurrent executions both pass the check.
_EXECUTION_CLAIM = threading.Lock()


def claim_for_execution(change_set: Any) -> None:
    """Mark a change set EXECUTE_IN_PROGRESS, or raise InvalidChangeSetStatus as AWS does (its wording)."""
    with _EXECUTION_CLAIM:
        if change_set.status != "CREATE_COMPLETE":
            raise InvalidChangeSetStatus(f"ChangeSet [{change_set.stack_id}] cannot be executed in its current "
                                         f"status of [{change_set.status}]")
        if change_set.execution_status != "AVAILABLE":
            raise InvalidChangeSetStatus(f"ChangeSet [{change_set.stack_id}] cannot be executed in its current "
                                         f"execution status of [{change_set.execution_status}]")
        change_set.execution_status = "EXECUTE_IN_PROGRESS"


@patch
def change_set_execute_once() -> None:
    """moto executes a change set as often as it is asked: a second ExecuteChangeSet of one that ran
    already (EXECUTE_COMPLETE, EXECUTE_FAILED) applies its template again and succeeds, so two deploys
    of one reviewed change set both "work". CloudFormation refuses it with InvalidChangeSetStatus (HTTP
    400): "ChangeSet [<stack id>] cannot be executed in its current execution status of [...]" (or
    "status of [...]" while the change set is not CREATE_COMPLETE). This patch checks and claims the
    change set (ExecutionStatus EXECUTE_IN_PROGRESS) in one step under a lock before moto executes it,
    and answers that error otherwise; an unknown change set is left to moto's own answer."""

    def make(original):  # type: ignore[no-untyped-def]
        def execute_change_set(self):  # type: ignore[no-untyped-def]
            try:
                change_set = self.cloudformation_backend.describe_change_set(self._get_param("ChangeSetName"))
            except CloudFormationError:
                change_set = None
            if change_set is not None:
                claim_for_execution(change_set)
            return original(self)
        return execute_change_set

    wrap(cfn_responses.CloudFormationResponse, "execute_change_set", make)


def dependency_order(resources: dict[str, Any], names: list[str]) -> list[str]:
    """`names` sorted so that each comes after what it depends on (blueprint.cfn.refs) within `names`."""
    wanted = set(names)
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...] = ()) -> None:
        if name in seen or name in path:
            return
        for dep in sorted(dependencies(resources.get(name) or {}) & wanted):
            visit(dep, path + (name,))
        seen.add(name)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


@patch
def change_set_dependency_order() -> None:
    """Executing a change set, moto creates the added resources in template order, ignoring DependsOn:
    an AWS::ApiGateway::Deployment listed before its Methods fails ("The REST API doesn't contain any
    methods"). This patch orders the added (and modified) resources by DependsOn, Ref, GetAtt and Sub."""

    def make(original):  # type: ignore[no-untyped-def]
        def build_resource_diff(self, other_template, parameters=None):  # type: ignore[no-untyped-def]
            result = original(self, other_template, parameters)
            resources = other_template.get("Resources", {})
            result["Add"] = dependency_order(resources, result["Add"])
            result["Modify"] = dependency_order(resources, result["Modify"])
            return result
        return build_resource_diff

    wrap(parsing.ResourceMap, "build_resource_diff", make)


@patch
def keep_resources_moto_cannot_update() -> None:
    """When a resource type has no update_from_cloudformation_json in moto (e.g. AWS::ApiGateway::RestApi,
    Deployment, AWS::EC2::VPCEndpoint, AWS::Logs::LogGroup), moto stores None for it after a Modify: the
    stack loses the resource and every later Ref to it resolves to None. This patch keeps the existing
    resource (its properties are not changed: see docs/local-target.md) and logs that in the server log."""

    def make(original):  # type: ignore[no-untyped-def]
        def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):  # type: ignore[no-untyped-def]
            result = original(logical_id, resource_json, resources_map, account_id, region_name)
            if result is None:
                existing = resources_map._parsed_resources.get(logical_id)
                if existing is not None:
                    log.warning("moto cannot update %s (%s) in place: left unchanged", logical_id,
                                resource_json.get("Type"))
                    return existing
            return result
        return parse_and_update_resource

    wrap(parsing, "parse_and_update_resource", make)


# --------------------------------------------------------------------------- stack deletion, unknown types

@patch
def delete_stack_failure() -> None:
    """When a resource cannot be deleted, moto's delete_stack raises after it has already removed the stack
    from its list: the call fails and the stack disappears (describe_stacks: "does not exist") while
    its remaining resources live on. This patch keeps the stack, as CloudFormation does: the call
    succeeds, the stack is DELETE_FAILED with the reason in its events, and a later delete_stack retries."""

    def make(original):  # type: ignore[no-untyped-def]
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
        return delete_stack

    wrap(cfn_models.CloudFormationBackend, "delete_stack", make)


class NotEmulated(Model):
    """A stand-in for a resource of a type the local AWS cannot create."""

    TYPE = "Blueprint::LocalAws::NotEmulated"

    def __init__(self, logical_id: str):
        self.physical_resource_id = f"{NOT_EMULATED_PREFIX}{logical_id}"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return f"{self.physical_resource_id}.{attribute_name}"

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        log.warning("%s (%s) is not emulated by the local AWS: it exists only as a placeholder",
                    kwargs.get("LogicalId"), kwargs.get("ResourceType"))
        return cls(kwargs.get("LogicalId", name))

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        return original

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
    placeholder = add_model(NotEmulated)

    def make(original):  # type: ignore[no-untyped-def]
        def resource_class_from_type(resource_type: str):  # type: ignore[no-untyped-def]
            found = original(resource_type)
            if found is None and resource_type not in parsing.NULL_MODELS:
                return placeholder
            return found
        return resource_class_from_type

    wrap(parsing, "resource_class_from_type", make)
