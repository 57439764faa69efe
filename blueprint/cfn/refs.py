"""The one reader of references in a parsed template: which names a node uses through Ref, GetAtt and Sub.

render checks that every name it finds exists, the local AWS orders resources by them, and the local
API resolves the few shapes it serves; all of them ask this module rather than walk templates alone.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

# `${Name}` or `${Name.Attribute}` in a Fn::Sub string; `${!Literal}` is an escape, not a reference.
SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")
PSEUDO_PARAMETERS = frozenset({"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix",
                               "AWS::StackName", "AWS::StackId", "AWS::NoValue", "AWS::NotificationARNs"})


def ref_target(value: Any) -> str | None:
    """`X` for a node that is exactly `{"Ref": "X"}`, else None."""
    if isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def getatt_target(value: Any) -> tuple[str, str] | None:
    """`(X, Attr)` for a node that is exactly `{"Fn::GetAtt": [X, Attr]}` (or `"X.Attr"`), else None."""
    if not (isinstance(value, dict) and set(value) == {"Fn::GetAtt"}):
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str) and "." in target:
        target = target.split(".", 1)
    if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target):
        return target[0], target[1]
    return None


def _sub_names(value: Any) -> Iterator[str]:
    text = value if isinstance(value, str) else (value[0] if isinstance(value, list) and value else "")
    local = set(value[1]) if isinstance(value, list) and len(value) > 1 and isinstance(value[1], dict) else set()
    for var in SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
        name = var.split(".", 1)[0]
        if name not in local:
            yield name
    if isinstance(value, list) and len(value) > 1:
        yield from references(value[1])


def references(node: Any) -> Iterator[str]:
    """Every name `node` refers to (resources, parameters, pseudo parameters), in document order."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                yield value
            elif key == "Fn::GetAtt":
                first = value[0] if isinstance(value, list) and value else value
                if isinstance(first, str):
                    yield first.split(".", 1)[0]
            elif key == "Fn::Sub":
                yield from _sub_names(value)
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def depends_on(resource: dict[str, Any]) -> list[str]:
    """A resource's DependsOn as a list (CloudFormation takes one name or a list)."""
    value = resource.get("DependsOn") or []
    return [value] if isinstance(value, str) else list(value)


def dependencies(resource: dict[str, Any]) -> set[str]:
    """What a resource must wait for: its DependsOn and every name its properties refer to."""
    return set(depends_on(resource)) | set(references(resource.get("Properties")))
