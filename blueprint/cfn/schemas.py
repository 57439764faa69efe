"""The resource provider schemas cfn-lint ships, read as data: which properties force a replacement.

A changed property listed in a type's `createOnlyProperties` means CloudFormation must create a new
resource (Replacement True). Without a schema (cfn-lint not installed, or a type it does not know) the
answer is unknown (None): it never overrides what a target answers.
"""
from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

# The registry schemas omit a few properties whose change AWS documents as "Update requires:
# Replacement"; without these a key-schema change would be predicted as an in-place update.
CREATE_ONLY_EXTRA = {
    "AWS::DynamoDB::Table": frozenset({"KeySchema", "LocalSecondaryIndexes"}),
}


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
