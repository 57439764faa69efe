"""The JSON Schema of the merged spec (schema/blueprint.schema.json) and its errors told as people read them.

Each error becomes `(key path, "what is wrong (what is allowed)")`; blueprint.spec.validate adds the
file and line. Patterns are matched as ECMA-262 (blueprint.spec.ecma), as JSON Schema and editors
read them, a number must be finite, and validation costs what the schema's size limits allow, not
what the input holds: the schema file itself stays standard JSON Schema.
"""
from __future__ import annotations

import difflib
import itertools
import json
import math
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from blueprint.spec import ecma
from blueprint.spec.load import KeyPath

SCHEMA_FILE = Path(__file__).resolve().parent.parent.parent / "schema" / "blueprint.schema.json"
MAX_UNKNOWN_KEYS = 20  # named one by one; a file of 16,000 typos gets 20 lines and a count


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _is_number(checker, value: Any) -> bool:
    # JSON has no NaN or infinity: YAML's .nan and .inf are not numbers any key takes.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _is_integer(checker, value: Any) -> bool:
    return _is_number(checker, value) and (isinstance(value, int) or value.is_integer())


def _pattern(validator, pattern: str, instance: Any, schema: dict[str, Any]):
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not ecma.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if ecma.search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


@cache
def _validator():
    from jsonschema import Draft202012Validator, validators  # imported here: only validation pays for it

    # Patterns mean what they mean in an editor (ECMA-262), not what Python's `re` makes of them;
    # `propertyNames` reaches `pattern` through its subschema. The schema file stays standard.
    checker = Draft202012Validator.TYPE_CHECKER.redefine_many({"number": _is_number, "integer": _is_integer})
    validator = validators.extend(Draft202012Validator, {"pattern": _pattern, "patternProperties": _pattern_properties},
                                  type_checker=checker)
    # The schema itself is checked against the metaschema by the tests, not on every run (34 ms).
    return validator(schema())


def normalised(data: Any, node: dict[str, Any] | None = None) -> Any:
    """Valid data as the model takes it: every schema `default` of a key left out filled in, and every
    value of an `integer` key a Python int (JSON Schema also calls 5.0 one, but rendering writes a
    float with its decimal point, and a property AWS reads as an integer must not get `5.0`).
    """
    node = schema() if node is None else node
    if node.get("type") == "integer" and isinstance(value := data, float):
        return int(value)
    if isinstance(data, dict):
        props, extra = node.get("properties", {}), node.get("additionalProperties")
        out = {k: normalised(v, props.get(k, extra if isinstance(extra, dict) else {})) for k, v in data.items()}
        out.update({k: sub["default"] for k, sub in props.items() if k not in out and "default" in sub})
        return out
    if isinstance(data, list):
        return [normalised(v, node.get("items", {})) for v in data]
    return data


def schema_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Every way `data` breaks the schema, as (key path, explanation)."""
    too_big: list[tuple[KeyPath, str]] = []
    bounded = _bounded(data, schema(), (), too_big)
    yield from too_big
    for err in _validator().iter_errors(bounded):
        yield from _explain(err)


def _bounded(data: Any, node: dict[str, Any], path: KeyPath, too_big: list[tuple[KeyPath, str]]) -> Any:
    """`data` cut to the sizes the schema allows (maxItems, maxProperties), each cut reported once.

    Every list and open map in the schema has a size limit (a test checks), so validation costs what
    the schema allows, not what the input holds: a 1 MB list is refused by its length, and its
    19,000th item is never looked at.
    """
    if isinstance(data, list):
        limit = node.get("maxItems")
        if limit is not None and len(data) > limit:
            too_big.append((path, f"the list has {len(data)} items, more than {limit} ({_allowed(node)})"))
            data = data[:limit]
        items = node.get("items", {})
        return [_bounded(v, items, path + (i,), too_big) for i, v in enumerate(data)]
    if isinstance(data, dict):
        limit = node.get("maxProperties")
        if limit is not None and len(data) > limit:
            too_big.append((path, f"{len(data)} keys, more than {limit} ({_allowed(node)})"))
            data = dict(itertools.islice(data.items(), limit))
        props, extra = node.get("properties", {}), node.get("additionalProperties")
        return {k: _bounded(v, props[k] if k in props else extra, path + (k,), too_big)
                if k in props or isinstance(extra, dict) else v  # an unknown key: refused as a whole
                for k, v in data.items()}
    return data


def _explain(err) -> Iterator[tuple[KeyPath, str]]:
    path = tuple(err.absolute_path)
    kind, sub, value = err.validator, err.schema, err.instance
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(sub.get("properties", {}))
        unknown = sorted(set(value) - set(allowed), key=str)
        for key in unknown[:MAX_UNKNOWN_KEYS]:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            yield path + (key,), f"unknown key '{key}' ({hint}allowed here: {', '.join(allowed)})"
        if len(unknown) > MAX_UNKNOWN_KEYS:
            yield path, (f"{len(unknown) - MAX_UNKNOWN_KEYS} more unknown keys besides those "
                         f"(allowed here: {', '.join(allowed)})")
    elif kind == "required":
        for key in err.validator_value:
            if key not in value:
                what = sub.get("properties", {}).get(key, {}).get("description", "")
                yield path, f"missing required key '{key}' ({what})" if what else f"missing required key '{key}'"
    elif "propertyNames" in err.schema_path:
        names_schema = err.parent.schema if err.parent is not None else sub
        what = names_schema.get("description", sub.get("description", err.message))
        yield path + (value,), f"{shown(value)} is not allowed as a key (allowed: {_lower_first(what)})"
    else:
        yield path, f"{_what_is_wrong(kind, value, err)} ({_allowed(sub)})"


def shown(value: Any) -> str:
    """A value as the message shows it: JSON for scalars (YAML's spelling for .nan and .inf), long text cut."""
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    text = json.dumps(value) if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
    return text if len(text) <= 64 else text[:60] + "...\"" * isinstance(value, str) + "..." * (not isinstance(value, str))


def _what_is_wrong(kind: str, value: Any, err) -> str:
    text = shown(value)
    if kind == "type":
        expected = err.validator_value
        if isinstance(value, float) and not math.isfinite(value) and expected in ("number", "integer"):
            return f"{text} is not a finite number, expected {_article(expected)}"
        hint = f' — quote it: "{value}"' if expected == "string" and isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        got = f"{text} is {_json_type(value)}" if not isinstance(value, (dict, list)) else f"got {text}"
        return f"{got}, expected {_article(expected)}{hint}"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{text} is below the floor of {err.validator_value}" + (" (exclusive)" if kind == "exclusiveMinimum" else "")
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{text} is above the ceiling of {err.validator_value}"
    if kind == "enum":
        return f"{text} is not an accepted value"
    if kind == "pattern":
        return f"{text} has the wrong form"
    if kind == "uniqueItems":
        return "the list repeats an item"
    if kind == "minItems":
        return f"the list needs at least {err.validator_value} item(s)"
    if kind == "maxItems":
        return f"the list has {len(value)} items, more than {err.validator_value}"
    if kind == "maxProperties":
        return f"{len(value)} keys, more than {err.validator_value}"
    if kind == "maxLength":
        return f"{text} is {len(value)} characters, more than {err.validator_value}"
    if kind == "minLength":
        return f"{text} is shorter than {err.validator_value} character(s)"
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
    return "allowed: " + _lower_first(sub.get("description", "see the spec reference in README.md"))


def _lower_first(text: str) -> str:
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]  # "IPv4 CIDR" keeps its capital


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
