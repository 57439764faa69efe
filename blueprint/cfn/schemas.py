"""The resource provider schemas cfn-lint ships, read as data: which properties force a replacement, which types take tags.

A changed property listed in a type's `createOnlyProperties` means CloudFormation must create a new
resource (Replacement True). Without a schema (cfn-lint not installed, or a type it does not know) the
answer is unknown (None): it never overrides what a target answers.
"""
from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# The registry schemas omit a few properties whose change AWS documents as "Update requires:
# Replacement"; without these a key-schema change would be predicted as an in-place update.
CREATE_ONLY_EXTRA = {
    "AWS::DynamoDB::Table": frozenset({"KeySchema", "LocalSecondaryIndexes"}),
}


@cache
def cfnlint_data() -> Path | None:
    """cfn-lint's data folder (schemas, AdditionalSpecs), or None when cfn-lint is not installed."""
    # Locate the package without importing it: importing cfnlint costs half a second.
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


@cache
def _schema_index() -> tuple[dict[str, str], Path] | None:
    """cfn-lint's us-east-1 provider index (type -> schema file digest) and its schema folder."""
    data = cfnlint_data()
    if data is None:
        return None
    base = data / "schemas"
    index = base / "providers" / "us-east-1.json"
    if not index.is_file():
        return None
    return json.loads(index.read_text(encoding="utf-8")), base / "resources"


@cache
def provider_schema(resource_type: str) -> dict[str, Any] | None:
    """The provider schema of a resource type, or None when cfn-lint has none for it."""
    found = _schema_index()
    if found is None:
        return None
    index, folder = found
    digest = index.get(resource_type)
    path = folder / f"{digest}.json" if digest else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Tagging:
    """How a resource type takes tags, from its provider schema's `tagging` and its tag property."""

    taggable: bool
    tag_property: str | None = None  # e.g. "Tags"
    shape: str | None = None  # "list" (of {Key, Value}) or "map" (key -> value)


@cache
def tagging(resource_type: str) -> Tagging | None:
    """Whether and how a resource type takes tags; None when cfn-lint has no schema for it.

    `tagging.taggable` defaults to true in the registry's schema format, but a type with no tag
    property cannot carry any, so both must hold.
    """
    schema = provider_schema(resource_type)
    if schema is None:
        return None
    info = schema.get("tagging", {})
    pointer = info.get("tagProperty", "/properties/Tags")
    name = pointer.rsplit("/", 1)[-1] if pointer.startswith("/properties/") else None
    prop = schema.get("properties", {}).get(name) if name else None
    if not info.get("taggable", True) or prop is None:
        return Tagging(taggable=False)
    if "$ref" in prop:
        prop = schema.get("definitions", {}).get(prop["$ref"].rsplit("/", 1)[-1], prop)
    shape = "list" if prop.get("type") == "array" else "map"
    return Tagging(taggable=True, tag_property=name, shape=shape)


@cache
def create_only_properties(resource_type: str) -> frozenset[str] | None:
    """Top-level createOnlyProperties of a type (`/properties/TableName` -> TableName); None when unknown."""
    schema = provider_schema(resource_type)
    if schema is None:
        return None
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
