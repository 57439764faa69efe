"""The JSON Schema of the merged spec (schema/blueprint.schema.json) and its errors told as people read them.

Each error becomes `(key path, "what is wrong (what is allowed)")`; blueprint.spec.validate adds the
file and line.
"""
from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from blueprint.spec.load import KeyPath

SCHEMA_FILE = Path(__file__).resolve().parent.parent.parent / "schema" / "blueprint.schema.json"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator  # imported here: only validation pays for it

    # The schema itself is checked against the metaschema by the tests, not on every run (34 ms).
    return Draft202012Validator(schema())


def schema_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Every way `data` breaks the schema, as (key path, explanation)."""
    for err in _validator().iter_errors(data):
        yield from _explain(err)


def _explain(err) -> Iterator[tuple[KeyPath, str]]:
    path = tuple(err.absolute_path)
    kind, sub, value = err.validator, err.schema, err.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(sub.get("properties", {}))
        for key in sorted(set(value) - set(allowed), key=str):
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            yield path + (key,), f"unknown key '{key}' ({hint}allowed here: {', '.join(allowed)})"
    elif kind == "required":
        for key in err.validator_value:
            if key not in value:
                what = sub.get("properties", {}).get(key, {}).get("description", "")
                yield path, f"missing required key '{key}' ({what})" if what else f"missing required key '{key}'"
    elif "propertyNames" in err.schema_path:
        names_schema = err.parent.schema if err.parent is not None else sub
        yield path + (value,), f"'{value}' is not allowed as a key ({names_schema.get('description', sub.get('description', err.message))})"
    else:
        yield path, f"{_what_is_wrong(kind, value, err)} ({_allowed(sub)})"


def _what_is_wrong(kind: str, value: Any, err) -> str:
    shown = json.dumps(value) if not isinstance(value, (dict, list)) else ("a map" if isinstance(value, dict) else "a list")
    if kind == "type":
        expected = err.validator_value
        hint = f' — quote it: "{value}"' if expected == "string" and isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        got = f"{shown} is {_json_type(value)}" if not isinstance(value, (dict, list)) else f"got {shown}"
        return f"{got}, expected {_article(expected)}{hint}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{shown} is below the floor of {err.validator_value}" + (" (exclusive)" if kind == "exclusiveMinimum" else "")
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{shown} is above the ceiling of {err.validator_value}"
    if kind == "enum":
        return f"{shown} is not an accepted value"
    if kind == "pattern":
        return f"{shown} has the wrong form"
    if kind == "uniqueItems":
        return "the list repeats an item"
    if kind == "minItems":
        return f"the list needs at least {err.validator_value} item(s)"
    if kind in ("maxLength", "maxProperties"):
        return f"too long (at most {err.validator_value})"
    return err.message


def _allowed(sub: dict[str, Any]) -> str:
    if "enum" in sub:
        return "allowed: " + ", ".join(json.dumps(v) for v in sub["enum"])
    lo = sub.get("minimum", sub.get("exclusiveMinimum"))
    hi = sub.get("maximum")
    if sub.get("type") in ("integer", "number") and (lo is not None or hi is not None):
        noun = "an integer" if sub["type"] == "integer" else "a number"
        if lo is not None and hi is not None:
            return f"allowed: {noun} from {lo} to {hi}"
        return f"allowed: {noun} {'>= ' + str(lo) if lo is not None else '<= ' + str(hi)}"
    return sub.get("description", "see the spec reference in README.md")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if value is None:
        return "empty (null)"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a map"


def _article(t: Any) -> str:
    if isinstance(t, list):
        return " or ".join(_article(x) for x in t)
    return {"object": "a map", "array": "a list", "integer": "an integer"}.get(t, f"a {t}")
