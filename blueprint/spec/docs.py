"""Derive documents from the schema: the README's spec reference and the override schema for envs/.

`make docs` (`blueprint docs --write`) also regenerates the one part of the schema that is data, not
decisions: the offered runtimes (blueprint.spec.runtimes).
"""
from __future__ import annotations

import copy
import json
from argparse import Namespace
from datetime import date
from typing import Any, Iterator

from blueprint.spec import runtimes
from blueprint.spec.schema import SCHEMA_FILE, schema

OVERRIDE_SCHEMA_FILE = SCHEMA_FILE.with_name("blueprint.override.schema.json")
BEGIN, END = "<!-- spec-reference:begin -->", "<!-- spec-reference:end -->"


def override_schema() -> dict[str, Any]:
    """The schema an envs/<env>.yaml file is checked against in editors: nothing is required there."""
    out = copy.deepcopy(schema())
    out["$id"] = out["$id"].replace("blueprint.schema.json", "blueprint.override.schema.json")
    out["title"] = "blueprint environment override"
    out["description"] = "envs/<env>.yaml: deep-merged over blueprint.yaml (maps merge, lists replace); any key may be left out."

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("required", None)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)
    strip(out)
    return out


def _rows(node: dict[str, Any], path: str, required: bool) -> Iterator[str]:
    kind = node.get("type", "")
    if "enum" in node:
        kind = " \\| ".join(f"`{v}`" for v in node["enum"])
    elif kind == "array":
        kind = f"list of {node['items'].get('type', '')}"
    bounds = []
    if "minimum" in node or "exclusiveMinimum" in node:
        bounds.append(f">= {node.get('minimum', node.get('exclusiveMinimum'))}" if "minimum" in node else f"> {node['exclusiveMinimum']}")
    if "maximum" in node:
        bounds.append(f"<= {node['maximum']}")
    text = node.get("description", "").replace("|", "\\|")
    if path:
        yield f"| `{path}` | {kind}{' (' + ', '.join(bounds) + ')' if bounds else ''} | {'yes' if required else 'no'} | {text} |"
    if kind == "object" or node.get("type") == "object":
        needed = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            yield from _rows(sub, f"{path}.{key}" if path else key, key in needed)
    if node.get("type") == "array" and node["items"].get("type") == "object":
        for key, sub in node["items"].get("properties", {}).items():
            yield from _rows(sub, f"{path}[].{key}", key in set(node["items"].get("required", [])))


def reference() -> str:
    """The spec reference as a Markdown table, one row per key, from the schema's descriptions."""
    lines = ["| key | type | required | meaning |", "|---|---|---|---|"]
    lines += list(_rows(schema(), "", True))
    return "\n".join(lines) + "\n"


def readme_with_reference(readme: str) -> str:
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[:start] + "\n" + reference() + readme[end:]


def fresh_schema() -> dict[str, Any]:
    """The schema as `make docs` writes it: the committed one with its generated parts made afresh."""
    return runtimes.with_runtimes(schema(), date.today())


def main(args: Namespace) -> int:
    if not getattr(args, "write", False):
        print(reference(), end="")
        return 0
    SCHEMA_FILE.write_text(json.dumps(fresh_schema(), indent=2) + "\n", encoding="utf-8")
    schema.cache_clear()  # what follows is derived from the schema just written
    OVERRIDE_SCHEMA_FILE.write_text(json.dumps(override_schema(), indent=2) + "\n", encoding="utf-8")
    readme = args.root / "README.md"
    readme.write_text(readme_with_reference(readme.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {OVERRIDE_SCHEMA_FILE.relative_to(args.root.resolve()) if OVERRIDE_SCHEMA_FILE.is_relative_to(args.root.resolve()) else OVERRIDE_SCHEMA_FILE} and the reference in {readme}")
    return 0
