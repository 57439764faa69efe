"""The one structural diff of two parsed templates: resources added, removed and modified, property by property.

The offline plan, the change-set review (where a target gives no values) and the local AWS's change-set
details all take their differences from here; whether a change replaces a resource comes from the
provider schemas (blueprint.cfn.schemas). Inside a property, how its value changed (a tag added, one
method setting changed, the lines of a VTL template) is blueprint.cfn.values', through
PropertyChange.entries, for template values and a target's alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from blueprint.cfn import values
from blueprint.cfn.schemas import predict_replacement, recreation

# Resource attributes beside Properties whose change is a change of the resource.
RESOURCE_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy", "Metadata", "DependsOn", "Condition", "UpdatePolicy")


@dataclass(frozen=True)
class PropertyChange:
    name: str  # top-level property (or resource attribute such as DeletionPolicy); `path` is deeper when known
    before: Any
    after: Any
    requires_recreation: str = ""  # Never | Conditionally | Always ("" when unknown)
    path: str = ""

    def entries(self) -> list[values.Entry]:
        """How the value changed, structurally; a target's JSON text is parsed first (values.parse)."""
        return values.diff(values.parse(self.before), values.parse(self.after))


@dataclass
class ResourceDiff:
    action: str  # Add | Modify | Remove
    logical_id: str
    type: str
    properties: list[PropertyChange] = field(default_factory=list)
    predicted_replacement: str | None = None  # True | False; None for Add/Remove or when unknown

    @property
    def changed_properties(self) -> list[PropertyChange]:
        """The changes to Properties (Tags included), without the resource attributes."""
        return [p for p in self.properties if p.name not in RESOURCE_ATTRIBUTES]


def _resources(template: dict[str, Any] | None) -> dict[str, Any]:
    return (template or {}).get("Resources") or {}


def diff_resource(logical_id: str, old: dict[str, Any], new: dict[str, Any]) -> ResourceDiff | None:
    """The changed top-level properties of one resource (and a Type change, which replaces it)."""
    rtype = new.get("Type", old.get("Type", ""))
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    changes = [PropertyChange(name, old_props.get(name), new_props.get(name), recreation(rtype, name))
               for name in sorted(set(old_props) | set(new_props))
               if not values.same(old_props.get(name), new_props.get(name))]
    prop_names = [c.name for c in changes]
    for key in RESOURCE_ATTRIBUTES:
        if not values.same(old.get(key), new.get(key)):
            changes.append(PropertyChange(key, old.get(key), new.get(key), "Never"))
    if old.get("Type") != new.get("Type"):
        return ResourceDiff("Modify", logical_id, rtype, changes, "True")
    if not changes:
        return None
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
