"""A change set as DescribeChangeSet shows it: each Modify's Replacement, Scope and Details, from blueprint.cfn.diff;
and the template GetTemplate gives of a change set.

Differences between templates come from blueprint.cfn.diff (the offline plan's diff), so the local AWS
reviews a change exactly as `blueprint plan` sees it.
"""
from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import responses as cfn_responses

from blueprint.cfn.diff import RESOURCE_ATTRIBUTES, diff_resource

# The resource attributes besides Properties and Tags that DescribeChangeSet lists as a changed Target.
SHOWN_ATTRIBUTES = ("Metadata", "UpdatePolicy")
# A Target's keys that only IncludePropertyValues shows.
VALUE_KEYS = ("BeforeValue", "AfterValue", "Path", "AttributeChangeType")
REPLACEMENT = {"True": "True", "False": "False", None: "Conditional"}  # a prediction -> AWS's Replacement


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
        # While it is being created (the timing model), AWS shows no Changes yet.
        pending = change_set.status in ("CREATE_PENDING", "CREATE_IN_PROGRESS")
        self.changes = [] if pending else [_ChangeView(c, include_values) for c in change_set.changes]
        self.include_property_values = include_values

    def __getattr__(self, name: str) -> Any:
        return getattr(self._change_set, name)


def make_diff(original):  # type: ignore[no-untyped-def]
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


def describe_change_set(self):  # type: ignore[no-untyped-def]
    change_set = self.cloudformation_backend.describe_change_set(change_set_name=self._get_param("ChangeSetName"))
    include = str(self._get_param("IncludePropertyValues", "false")).lower() == "true"
    return cfn_responses.ActionResult(_ChangeSetView(change_set, include))


def make_get_template(original):  # type: ignore[no-untyped-def]
    def get_template(self):  # type: ignore[no-untyped-def]
        name = self._get_param("ChangeSetName")
        if not name:
            return original(self)
        change_set = self.cloudformation_backend.describe_change_set(change_set_name=name)
        return cfn_responses.ActionResult({"TemplateBody": change_set.template,
                                           "StagesAvailable": ["Original", "Processed"]})  # no transforms here
    return get_template
