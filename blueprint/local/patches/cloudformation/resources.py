"""Resources as moto's CloudFormation parses them: a diff in dependency order, a resource kept when moto cannot
update it, and a placeholder for a type moto has no model for."""
from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing

from blueprint.cfn.refs import dependencies
from blueprint.local.patches.base import Model, log

NOT_EMULATED_PREFIX = "not-emulated-"


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


def make_build_resource_diff(original):  # type: ignore[no-untyped-def]
    """ResourceMap.build_resource_diff with its Add and Modify lists in dependency order."""
    def build_resource_diff(self, other_template, parameters=None):  # type: ignore[no-untyped-def]
        result = original(self, other_template, parameters)
        resources = other_template.get("Resources", {})
        result["Add"] = dependency_order(resources, result["Add"])
        result["Modify"] = dependency_order(resources, result["Modify"])
        return result
    return build_resource_diff


def make_parse_and_update_resource(original):  # type: ignore[no-untyped-def]
    """parsing.parse_and_update_resource keeping the resource when moto has no update for its type."""
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


def make_resource_class_from_type(placeholder: type):  # type: ignore[no-untyped-def]
    """parsing.resource_class_from_type answering `placeholder` for a type moto has no model for."""
    def make(original):  # type: ignore[no-untyped-def]
        def resource_class_from_type(resource_type: str):  # type: ignore[no-untyped-def]
            found = original(resource_type)
            if found is None and resource_type not in parsing.NULL_MODELS:
                return placeholder
            return found
        return resource_class_from_type
    return make
