"""The review of a change as data: one model for a change set (DescribeChangeSet) and the offline plan.

Each change has its action, logical id, type, the target's Replacement answer beside the provider
schemas' prediction, and the changed properties with before and after values; a stateful resource
replaced or removed is dangerous. blueprint.ship.report prints it for people and for CI.

How a property's value changed (PropertyChange.entries) comes from blueprint.cfn.values, the one
value diff; here only the values are chosen: the whole property from the target's Before/AfterContext
where it gives them, else its details' values, else the template diff's.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from blueprint.cfn.diff import PropertyChange, ResourceDiff
from blueprint.cfn.values import same as same_value

# Replacing or removing these loses data (or, for a key, everything encrypted with it).
STATEFUL_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SQS::Queue",
                            "AWS::S3::Bucket"})
# Replacement answers, weakest first: a stronger one wins when two sources disagree.
STRENGTH = {"False": 0, "Conditional": 1, "True": 2}
RECREATION_STRENGTH = {"": 0, "Never": 1, "Conditionally": 2, "Always": 3}


@dataclass
class Change:
    action: str  # Add | Modify | Remove (| Dynamic | Import from AWS)
    logical_id: str
    type: str
    replacement: str | None = None  # what the target says: True | False | Conditional; None if nothing
    predicted: str | None = None  # what the provider schemas say (None: no schema, unknown)
    physical_id: str | None = None
    properties: list[PropertyChange] = field(default_factory=list)
    drift_status: str | None = None  # a drift-aware change set's ResourceDriftStatus (MODIFIED, DELETED, ...)

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
    deployment_mode: str | None = None  # REVERT_DRIFT for a drift-aware change set
    stack_drift_status: str | None = None  # the stack's drift as a drift-aware change set found it

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
    return _whole_values(list(seen.values()), resource_change)


def _context(text: Any) -> dict[str, Any] | None:
    """The Properties of a ResourceChange's BeforeContext/AfterContext (JSON text); None when not given."""
    try:
        decoded = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    props = decoded.get("Properties") if isinstance(decoded, dict) else None
    return props if isinstance(props, dict) else None


def _whole_values(props: list[PropertyChange], resource_change: dict[str, Any]) -> list[PropertyChange]:
    """One change per top-level property, its whole value before and after from the resource's contexts.

    AWS gives details by path inside a property (/Properties/Tags/3): by position, so one tag inserted
    in the middle reads as every later tag changed. The contexts hold the whole properties, which the
    structural diff matches by identity. The strongest recreation of a property's details stands.
    Without both contexts, or where they hold no difference for the property, the details stand.
    """
    before, after = _context(resource_change.get("BeforeContext")), _context(resource_change.get("AfterContext"))
    if before is None or after is None:
        return props
    out: list[PropertyChange] = []
    merged: dict[str, int] = {}  # property name -> its place in out
    for p in props:
        name = p.path.removeprefix("/Properties/").split("/")[0] if p.path.startswith("/Properties/") else None
        if name is None or same_value(before.get(name), after.get(name)):
            out.append(p)
            continue
        if name in merged:
            current = out[merged[name]]
            stronger = RECREATION_STRENGTH.get(p.requires_recreation, 0) > \
                RECREATION_STRENGTH.get(current.requires_recreation, 0)
            if stronger:
                out[merged[name]] = PropertyChange(name, current.before, current.after, p.requires_recreation,
                                                   current.path)
            continue
        merged[name] = len(out)
        out.append(PropertyChange(name, before.get(name), after.get(name), p.requires_recreation,
                                  f"/Properties/{name}"))
    return out


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
            physical_id=rc.get("PhysicalResourceId"), properties=props, drift_status=rc.get("ResourceDriftStatus")))
    return Review("change set", stack_name, target, changes, described.get("ChangeSetName"),
                  described.get("ChangeSetId"), stack_exists, described.get("StatusReason"), env,
                  described.get("DeploymentMode"), described.get("StackDriftStatus"))


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
