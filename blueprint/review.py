"""The review of a change: what a person reads before a deploy (text) and what CI reads (JSON).

One model for both a change set (DescribeChangeSet) and the offline plan (template diff), so both
print the same way: Action, logical id, type, Replacement flagged, the changed properties with
before -> after values, DANGEROUS marks on stateful resources, and the summary line.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

from blueprint.plan import STRENGTH, PropertyChange, ResourceDiff

# Replacing or removing these loses data (or, for a key, everything encrypted with it).
STATEFUL_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SQS::Queue",
                            "AWS::S3::Bucket"})
VALUE_WIDTH = 160  # longer before/after values are shortened in text; JSON carries them whole


@dataclass
class Change:
    action: str  # Add | Modify | Remove (| Dynamic | Import from AWS)
    logical_id: str
    type: str
    replacement: str | None = None  # what the target says: True | False | Conditional; None if nothing
    predicted: str | None = None  # what the provider schemas say (None: no schema, unknown)
    physical_id: str | None = None
    properties: list[PropertyChange] = field(default_factory=list)

    @property
    def effective_replacement(self) -> str | None:
        """The stronger of the target's answer and the prediction: safety never takes the weaker one.

        An unknown prediction (None) takes no part: only a schema-based one can raise the level.
        """
        answers = [a for a in (self.replacement, self.predicted) if a in STRENGTH]
        return max(answers, key=STRENGTH.__getitem__) if answers else None

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.effective_replacement == "True"

    @property
    def dangerous(self) -> bool:
        """Removing or (maybe) replacing a resource that holds data."""
        if self.type not in STATEFUL_TYPES:
            return False
        return self.action == "Remove" or (self.action == "Modify"
                                           and self.effective_replacement in ("True", "Conditional"))


@dataclass
class Review:
    kind: str  # "change set" | "plan"
    stack_name: str
    target: str
    changes: list[Change]
    change_set_name: str | None = None
    change_set_id: str | None = None
    stack_exists: bool = True
    status_reason: str | None = None
    env: str | None = None  # names the environment in the advice it prints

    @property
    def dangerous(self) -> list[str]:
        return [c.logical_id for c in self.changes if c.dangerous]


# --- building -----------------------------------------------------------------------------------

def _details(resource_change: dict[str, Any]) -> list[PropertyChange]:
    """Changed properties from DescribeChangeSet details, one per property path, values first."""
    seen: dict[str, PropertyChange] = {}
    for detail in resource_change.get("Details", []):
        target = detail.get("Target", {})
        attribute = target.get("Attribute", "")
        name = target.get("Name") or attribute
        path = target.get("Path") or (f"/Properties/{name}" if attribute == "Properties" else f"/{attribute}")
        change = PropertyChange(name=name, before=target.get("BeforeValue"), after=target.get("AfterValue"),
                                requires_recreation=target.get("RequiresRecreation", ""), path=path)
        current = seen.get(path)
        if current is None or (current.before is None and current.after is None):
            seen[path] = change
    return list(seen.values())


def _with_plan_values(props: list[PropertyChange], diff: ResourceDiff | None) -> list[PropertyChange]:
    """Fill values the target did not give (older APIs, dynamic refs) from the template diff."""
    if diff is None:
        return props
    planned = {p.name: p for p in diff.properties}
    out = []
    for p in props:
        known = planned.get(p.name)
        if p.before is None and p.after is None and known is not None and p.path == f"/Properties/{p.name}":
            p = PropertyChange(p.name, known.before, known.after, p.requires_recreation, p.path)
        out.append(p)
    if not out:  # the target gave no details at all: show what the templates say
        out = [p for p in diff.properties]
    return out


def from_change_set(stack_name: str, target: str, described: dict[str, Any], diffs: list[ResourceDiff],
                    stack_exists: bool, env: str | None = None) -> Review:
    """The review of a described change set, with the plan's prediction beside the target's answer."""
    by_id = {d.logical_id: d for d in diffs}
    changes = []
    for item in described.get("Changes", []):
        rc = item.get("ResourceChange")
        if not rc:
            continue
        diff = by_id.get(rc["LogicalResourceId"])
        action = rc.get("Action", "")
        props = _with_plan_values(_details(rc), diff) if action == "Modify" else []
        changes.append(Change(
            action=action, logical_id=rc["LogicalResourceId"], type=rc.get("ResourceType", ""),
            replacement=rc.get("Replacement") if action == "Modify" else None,
            predicted=diff.predicted_replacement if diff and action == "Modify" else None,
            physical_id=rc.get("PhysicalResourceId"), properties=props))
    return Review("change set", stack_name, target, changes, described.get("ChangeSetName"),
                  described.get("ChangeSetId"), stack_exists, described.get("StatusReason"), env)


def from_plan(stack_name: str, target: str, diffs: list[ResourceDiff], stack_exists: bool,
              env: str | None = None) -> Review:
    """The review of the offline plan; `target` is the target's description (Target.describe())."""
    changes = [Change(d.action, d.logical_id, d.type, None, d.predicted_replacement, None,
                      d.properties if d.action == "Modify" else []) for d in diffs]
    return Review("plan", stack_name, target, changes, stack_exists=stack_exists, env=env)


# --- summary ------------------------------------------------------------------------------------

def counts(changes: list[Change]) -> dict[str, int]:
    out = {"add": 0, "modify": 0, "replace": 0, "remove": 0}
    for c in changes:
        if c.action == "Add":
            out["add"] += 1
        elif c.action == "Remove":
            out["remove"] += 1
        elif c.replaces:
            out["replace"] += 1
        else:
            out["modify"] += 1
    return out


def summary_line(changes: list[Change]) -> str:
    n = counts(changes)
    return f"{n['add']} to add, {n['modify']} to modify, {n['replace']} to replace, {n['remove']} to remove"


# --- text ---------------------------------------------------------------------------------------

def replacement_text(change: Change) -> str:
    """The Replacement column: True/Conditional shouted, the prediction beside a differing answer."""
    if change.action != "Modify":
        return "-"
    if change.replacement is None and change.predicted is None:
        return "unknown (no provider schema)"
    shown = change.replacement or change.predicted or "False"
    text = {"True": "REPLACE (True)", "Conditional": "MAYBE REPLACE (Conditional)"}.get(shown, shown)
    if change.replacement is None and change.predicted is not None:
        text += " (predicted)"
    elif change.predicted and change.predicted != change.replacement:
        text += f" (predicted: {change.predicted})"
    return text


def short(value: Any) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def _property_line(p: PropertyChange, arrow: str) -> str:
    label = p.path.removeprefix("/Properties/") if p.path else p.name
    line = f"      {label}: {short(p.before)} {arrow} {short(p.after)}"
    if p.requires_recreation in ("Always", "Conditionally"):
        line += f"   [requires recreation: {p.requires_recreation}]"
    return line


def format_text(review: Review, arrow: str = "→") -> str:
    lines = [_heading(review)]
    if not review.changes:
        lines.append("no changes: the stack already matches the template")
        return "\n".join(lines)
    width_id = max([len("Logical id")] + [len(c.logical_id) for c in review.changes])
    width_type = max([len("Type")] + [len(c.type) for c in review.changes])
    lines.append(f"  {'Action':<8}{'Logical id':<{width_id + 2}}{'Type':<{width_type + 2}}Replacement")
    for c in review.changes:
        mark = "  !! DANGEROUS" if c.dangerous else ""
        lines.append(f"  {c.action:<8}{c.logical_id:<{width_id + 2}}{c.type:<{width_type + 2}}"
                     f"{replacement_text(c)}{mark}")
        lines.extend(_property_line(p, arrow) for p in c.properties)
    for c in review.changes:
        if c.dangerous:
            verb = "removes" if c.action == "Remove" else "replaces"
            lines.append(f"DANGEROUS: this {verb} {c.logical_id} ({c.type}) and the data in it; deploy refuses "
                         f"unless told so: make deploy ENV={review.env or '<env>'} ALLOW_REPLACE={c.logical_id} "
                         f"(blueprint deploy --allow-replace {c.logical_id})")
        elif c.action == "Modify" and c.type in STATEFUL_TYPES and c.effective_replacement is None:
            lines.append(f"UNKNOWN: whether this replaces {c.logical_id} ({c.type}) is not known here (no provider "
                         "schema: install cfn-lint); the change set's review says what CloudFormation will do")
    lines.append(summary_line(review.changes))
    return "\n".join(lines)


def _heading(review: Review) -> str:
    if review.kind == "plan":
        against = "the deployed template" if review.stack_exists else "nothing (the stack does not exist yet)"
        return (f"Plan for stack {review.stack_name} ({review.target}): the rendered template against {against}; "
                "a new handler package shows only in a change set")
    action = "update" if review.stack_exists else "create"
    return f"Change set {review.change_set_name} to {action} stack {review.stack_name} ({review.target})"


# --- JSON ---------------------------------------------------------------------------------------

def to_json(review: Review) -> dict[str, Any]:
    return {
        "kind": review.kind,
        "stack": review.stack_name,
        "target": review.target,
        "change_set": {"name": review.change_set_name, "id": review.change_set_id} if review.change_set_name else None,
        "stack_exists": review.stack_exists,
        "no_changes": not review.changes,
        "changes": [{
            "action": c.action, "logical_id": c.logical_id, "type": c.type, "physical_id": c.physical_id,
            "replacement": c.replacement, "predicted_replacement": c.predicted, "dangerous": c.dangerous,
            "properties": [{"name": p.name, "path": p.path, "before": p.before, "after": p.after,
                            "requires_recreation": p.requires_recreation or None} for p in c.properties],
        } for c in review.changes],
        "dangerous": review.dangerous,
        "summary": counts(review.changes),
        "summary_line": summary_line(review.changes),
    }


def emit(review: Review, output: str = "text") -> None:
    if output == "json":
        print(json.dumps(to_json(review), indent=2, sort_keys=True, default=str))
        return
    print(format_text(review, arrow()))


def arrow() -> str:
    """→ where stdout can show it; -> on a terminal or pipe that only takes ASCII."""
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is None:  # an in-memory text stream takes any character
        return "→"
    try:
        "→".encode(encoding)
        return "→"
    except (UnicodeEncodeError, LookupError):
        return "->"
