"""Parse CloudFormation YAML: short-form intrinsics (`!Ref`, `!Sub`, ...) become their long form.

Duplicate keys are an error here (plain PyYAML keeps the last one silently), so a template
that repeats a logical id can never pass as valid.
"""
from __future__ import annotations

from typing import Any

import yaml

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

INTRINSICS = ["Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split", "Sub",
              "Transform", "And", "Equals", "If", "Not", "Or", "Contains", "EachMemberEquals",
              "EachMemberIn", "RefAll", "ValueOf", "ValueOfAll", "Length", "ToJsonString"]


class TemplateError(ValueError):
    """A template that is not valid CloudFormation YAML, with the line where it breaks."""


class CfnLoader(_Base):
    pass


def _construct_mapping(loader: CfnLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise TemplateError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _intrinsic(name: str):
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = _construct_mapping(loader, node)
        if name == "Ref" or name == "Condition":
            return {name: value}
        if name == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{name}": value}
    return construct


CfnLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _name in INTRINSICS + ["Ref", "Condition", "GetAtt"]:
    CfnLoader.add_constructor(f"!{_name}", _intrinsic(_name))


def loads(text: str) -> dict[str, Any]:
    """The template as plain data; raises TemplateError with a line number when it is not valid."""
    try:
        data = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise TemplateError(f"line {mark.line + 1 if mark else '?'}: {exc.problem}") from None
    if not isinstance(data, dict):
        raise TemplateError("a template must be a map at the top")
    return data


def parse_body(body: Any) -> dict[str, Any]:
    """GetTemplate's TemplateBody: boto3 gives JSON templates as a dict and YAML ones as text."""
    return body if isinstance(body, dict) else loads(body)
