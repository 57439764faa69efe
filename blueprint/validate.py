"""Check a merged spec against the JSON Schema and the cross-field rules; return the data classes.

Every problem is reported, each as `FILE:LINE: key.path: what is wrong (what is allowed)`,
pointing at the line of the base or override file that set the value.
"""
from __future__ import annotations

import difflib
import ipaddress
import json
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterator

from blueprint import model
from blueprint.errors import UserError
from blueprint.spec import KeyPath, LoadedSpec, dotted

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "blueprint.schema.json"
API_INTEGRATION_TIMEOUT_S = 29  # API Gateway's ceiling for a Lambda integration (G7)


class SpecErrors(UserError):
    """All the problems of one or more specs, one per line, each already `FILE:LINE: ...`."""

    prefix = ""

    def __init__(self, problems: list[str]):
        self.problems = problems
        n = len(problems)
        super().__init__("\n".join(problems) + f"\n{n} problem{'s' if n != 1 else ''} in the spec; nothing was written.")


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator  # imported here: only validation pays for it

    # The schema itself is checked against the metaschema by the tests, not on every run (34 ms).
    return Draft202012Validator(schema())


def problems(loaded: LoadedSpec) -> list[str]:
    """Every problem of one merged spec, located and sorted by file and line."""
    found: list[tuple[KeyPath, str]] = list(_schema_problems(loaded.data))
    broken = {path[0] for path, _ in found if path}  # a missing section is caught by the rule itself
    found.extend(_cross_field_problems(loaded.data, broken))
    located = []
    for path, text in found:
        loc = loaded.where(path)
        located.append((loc.file, loc.line, f"{loc}: {dotted(path) or '(top level)'}: {text}"))
    return [line for _, _, line in sorted(set(located))]


def validated(loaded: LoadedSpec) -> model.Spec:
    """The data classes of a spec without problems; raises SpecErrors with all of them otherwise."""
    found = problems(loaded)
    if found:
        raise SpecErrors(found)
    return model.from_data(loaded.env, loaded.data, loaded.files)


# --- schema ------------------------------------------------------------------------------------

def _schema_problems(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
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


# --- cross-field rules ---------------------------------------------------------------------------

# Each rule names the top-level sections it reads; it runs when the schema found nothing wrong
# in them, so a spec with a typo in `api` still gets its table rules checked in the same run.
Rule = Callable[[dict[str, Any]], Iterator[tuple[KeyPath, str]]]
RULES: list[tuple[tuple[str, ...], Rule]] = []


def rule(*sections: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        RULES.append((sections, func))
        return func
    return register


def _cross_field_problems(d: dict[str, Any], broken: set[Any]) -> Iterator[tuple[KeyPath, str]]:
    for sections, check in RULES:
        if not broken & set(sections) and all(s in d for s in sections):
            yield from check(d)


@rule("api")
def _burst_holds_a_second(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    throttle = d["api"]["throttle"]
    if throttle["burst_limit"] < throttle["rate_limit"]:
        yield ("api", "throttle", "burst_limit"), (
            f"{throttle['burst_limit']} is below rate_limit {throttle['rate_limit']} "
            "(allowed: burst_limit >= rate_limit, or the bucket can never hold a second's requests)")


@rule("function")
def _timeout_below_the_gateway(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    timeout = d["function"]["timeout_seconds"]
    if timeout >= API_INTEGRATION_TIMEOUT_S:
        yield ("function", "timeout_seconds"), (
            f"{timeout} s is not below API Gateway's {API_INTEGRATION_TIMEOUT_S} s integration timeout "
            f"(allowed: 1 to {API_INTEGRATION_TIMEOUT_S - 1}; the gateway would answer 504 while the function still runs)")


@rule("table")
def _table_rules(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    table = d["table"]
    if table["ttl"]["attribute"] == "id":
        yield ("table", "ttl", "attribute"), "\"id\" is the table's partition key (allowed: any other attribute name, e.g. expiresAt)"
    scaling = table.get("autoscaling")
    if scaling:
        for kind in ("read", "write"):
            if scaling[f"max_{kind}_capacity"] < table[f"{kind}_capacity"]:
                yield ("table", "autoscaling", f"max_{kind}_capacity"), (
                    f"{scaling[f'max_{kind}_capacity']} is below table.{kind}_capacity {table[f'{kind}_capacity']} "
                    f"(allowed: >= table.{kind}_capacity, the scaling minimum)")


@rule("environment_tag", "protected", "table")
def _production_is_protected(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    if d.get("environment_tag") != "production":
        return
    for path in [("protected",), ("table", "deletion_protection"), ("table", "retain_on_delete")]:
        node: Any = d
        for part in path:
            node = node[part]
        if node is not True:
            yield path, f"{json.dumps(node)} in a production environment (allowed: true, production data must be protected)"


@rule("network")
def _network_problems(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    cidr = d["network"]["vpc_cidr"]
    try:
        ipaddress.IPv4Network(cidr)
    except ValueError as exc:
        yield ("network", "vpc_cidr"), f"\"{cidr}\" is not a network address: {exc} (allowed: e.g. 10.20.0.0/16)"


@rule("api")
def _api_problems(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    api = d["api"]
    cors = api["cors"]
    seen: dict[str, int] = {}
    allowed_methods = set(cors["allow_methods"])
    for i, route in enumerate(api["routes"]):
        if route["path"] in seen:
            yield ("api", "routes", i, "path"), (f"\"{route['path']}\" is declared twice (first as routes[{seen[route['path']]}]; "
                                                 "allowed: one entry per path, with all its methods)")
        seen.setdefault(route["path"], i)
        for j, method in enumerate(route["methods"]):
            if method not in allowed_methods:
                yield ("api", "routes", i, "methods", j), (
                    f"\"{method}\" is not in api.cors.allow_methods (allowed: add it there, or browsers cannot call it)")
    if "OPTIONS" not in allowed_methods:
        yield ("api", "cors", "allow_methods"), "OPTIONS is missing (allowed: a list including OPTIONS, the preflight method)"
    lower = {h.lower() for h in cors["allow_headers"]}
    for needed in ("Content-Type", "X-Api-Key"):
        if needed.lower() not in lower:
            yield ("api", "cors", "allow_headers"), (
                f"{needed} is missing (allowed: a list including Content-Type and X-Api-Key, which every call sends)")


@rule("api")
def _paths_fit_api_gateway(d: dict[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Two paths may not share a resource name, and a resource has at most one `{param}` child."""
    names: dict[str, str] = {}
    variable_child: dict[str, str] = {}
    for i, route in enumerate(d["api"]["routes"]):
        params = [p for p in route["path"].split("/") if p.startswith("{")]
        if len(params) != len(set(params)):
            yield ("api", "routes", i, "path"), (
                f"\"{route['path']}\" names a path parameter twice (allowed: a distinct name for each {{param}})")
        for prefix in model.path_prefixes(route["path"]):
            name = model.path_name(prefix)
            if names.setdefault(name, prefix) != prefix:
                yield ("api", "routes", i, "path"), (
                    f"\"{prefix}\" and \"{names[name]}\" would share the CloudFormation name Resource{name} "
                    "(allowed: paths that differ by more than punctuation, case of the first letter or braces)")
            parent, _, part = prefix.rpartition("/")
            if part.startswith("{") and variable_child.setdefault(parent, part) != part:
                yield ("api", "routes", i, "path"), (
                    f"\"{prefix}\": {parent or '/'} already has the variable child {variable_child[parent]} "
                    "(allowed: one {param} name per position, as API Gateway requires)")
