"""Offline plan: diff the rendered template against the deployed one and predict replacements.

The prediction reads the resource provider schemas cfn-lint ships: a changed property listed in
a type's `createOnlyProperties` means CloudFormation must create a new resource (Replacement
True). Without a schema (cfn-lint not installed, or a type it does not know) the prediction is
unknown (None): it never overrides what the target answers. The change-set review uses the
prediction wherever the target gives no Replacement data, and shows both where they disagree.
"""
from __future__ import annotations

import importlib.util
import json
from argparse import Namespace
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

# The registry schemas omit a few properties whose change AWS documents as "Update requires:
# Replacement"; without these a key-schema change would be predicted as an in-place update.
CREATE_ONLY_EXTRA = {
    "AWS::DynamoDB::Table": frozenset({"KeySchema", "LocalSecondaryIndexes"}),
}
# Replacement answers, weakest first: a stronger one wins when two sources disagree.
STRENGTH = {"False": 0, "Conditional": 1, "True": 2}


@dataclass(frozen=True)
class PropertyChange:
    name: str  # top-level property, or "Tags"; `path` is the deeper JSON pointer when known
    before: Any
    after: Any
    requires_recreation: str = ""  # Never | Conditionally | Always ("" when unknown)
    path: str = ""


@dataclass
class ResourceDiff:
    action: str  # Add | Modify | Remove
    logical_id: str
    type: str
    properties: list[PropertyChange] = field(default_factory=list)
    predicted_replacement: str | None = None  # True | False; None for Add/Remove or when unknown


# --- provider schemas ---------------------------------------------------------------------------

@cache
def _schema_index() -> tuple[dict[str, str], Path] | None:
    """cfn-lint's us-east-1 provider index (type -> schema file digest) and its schema folder."""
    # Locate the package without importing it: importing cfnlint costs half a second.
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(list(spec.submodule_search_locations)[0]) / "data" / "schemas"
    index = base / "providers" / "us-east-1.json"
    if not index.is_file():
        return None
    return json.loads(index.read_text(encoding="utf-8")), base / "resources"


@cache
def create_only_properties(resource_type: str) -> frozenset[str] | None:
    """Top-level createOnlyProperties of a type (`/properties/TableName` -> TableName); None when unknown."""
    found = _schema_index()
    if found is None:
        return None
    index, folder = found
    digest = index.get(resource_type)
    path = folder / f"{digest}.json" if digest else None
    if path is None or not path.is_file():
        return None
    schema = json.loads(path.read_text(encoding="utf-8"))
    names = {p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.startswith("/properties/")}
    return frozenset(names) | CREATE_ONLY_EXTRA.get(resource_type, frozenset())


def predict_replacement(resource_type: str, changed: list[str]) -> str | None:
    """True when a changed property is create-only, False when none is; None (unknown) without a schema.

    Only a schema-based answer is given: an unknown one must not make every change to a stateful
    resource look like a replacement (and so be refused) where cfn-lint is not installed.
    """
    props = [name for name in changed if name != "Tags"]
    if not props:
        return "False"
    create_only = create_only_properties(resource_type)
    if create_only is None:
        return None
    return "True" if any(name in create_only for name in props) else "False"


def recreation(resource_type: str, name: str) -> str:
    """Always | Never from the schema; "" when there is no schema for the type."""
    if name == "Tags":
        return "Never"
    create_only = create_only_properties(resource_type)
    if create_only is None:
        return ""
    return "Always" if name in create_only else "Never"


# --- diffing ------------------------------------------------------------------------------------

def _resources(template: dict[str, Any] | None) -> dict[str, Any]:
    return (template or {}).get("Resources") or {}


def diff_resource(logical_id: str, old: dict[str, Any], new: dict[str, Any]) -> ResourceDiff | None:
    """The changed top-level properties of one resource (and a Type change, which replaces it)."""
    rtype = new.get("Type", old.get("Type", ""))
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    changes = [PropertyChange(name, old_props.get(name), new_props.get(name), recreation(rtype, name))
               for name in sorted(set(old_props) | set(new_props)) if old_props.get(name) != new_props.get(name)]
    for key in ("DeletionPolicy", "UpdateReplacePolicy", "Metadata", "DependsOn", "Condition", "UpdatePolicy"):
        if old.get(key) != new.get(key):
            changes.append(PropertyChange(key, old.get(key), new.get(key), "Never"))
    if old.get("Type") != new.get("Type"):
        return ResourceDiff("Modify", logical_id, rtype, changes, "True")
    if not changes:
        return None
    prop_names = [c.name for c in changes if c.name in old_props or c.name in new_props]
    return ResourceDiff("Modify", logical_id, rtype, changes, predict_replacement(rtype, prop_names))


def diff_templates(old: dict[str, Any] | None, new: dict[str, Any]) -> list[ResourceDiff]:
    """Resource by resource: added, removed, modified (with changed properties), in template order."""
    old_res, new_res = _resources(old), _resources(new)
    out: list[ResourceDiff] = []
    for lid, res in new_res.items():
        if lid not in old_res:
            props = res.get("Properties") or {}
            out.append(ResourceDiff("Add", lid, res.get("Type", ""),
                                    [PropertyChange(k, None, v) for k, v in props.items()]))
        else:
            changed = diff_resource(lid, old_res[lid], res)
            if changed:
                out.append(changed)
    for lid, res in old_res.items():
        if lid not in new_res:
            out.append(ResourceDiff("Remove", lid, res.get("Type", "")))
    return out


def parse_template_body(body: Any) -> dict[str, Any]:
    """GetTemplate's TemplateBody: boto3 gives JSON templates as a dict and YAML ones as text."""
    if isinstance(body, dict):
        return body
    from blueprint import cfnyaml

    return cfnyaml.loads(body)


def template_of(cfn: Any, stack: dict[str, Any] | None) -> dict[str, Any] | None:
    """The template a described stack was last given (Stage Original); None when there is none yet."""
    if stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        return None  # a stack that only holds unexecuted change sets has no template yet
    body = cfn.get_template(StackName=stack["StackId"], TemplateStage="Original")["TemplateBody"]
    return parse_template_body(body)


def deployed_template(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack's template as last submitted, or None when there is no stack (one lookup: changeset's)."""
    from blueprint import changeset

    return template_of(cfn, changeset.stack_description(cfn, stack_name))


# --- command ------------------------------------------------------------------------------------

def main(args: Namespace) -> int:
    """`blueprint plan`: the offline diff, printed in the same shape as a change-set review."""
    from blueprint import aws, changeset, review

    prepared = changeset.prepare(args.root, args.env)
    with aws.translated(args.target):
        session = aws.session_for(prepared.settings, args.target, args.root)
        aws.check_account(session, prepared.settings, args.env)
        old = deployed_template(session.client("cloudformation"), prepared.stack_name)
    diffs = diff_templates(old, prepared.template)
    result = review.from_plan(prepared.stack_name, session.target.describe(), diffs, stack_exists=old is not None,
                              env=prepared.env)
    review.emit(result, args.output)
    return 0
