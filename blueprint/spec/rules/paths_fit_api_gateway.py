"""Two paths may not share a resource name, and a resource has at most one `{param}` child (API Gateway's rules)."""
from __future__ import annotations

from typing import Any, Iterator

from blueprint.spec.model import path_name, path_prefixes

SECTIONS = ("api",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    names: dict[str, str] = {}
    variable_child: dict[str, str] = {}
    for i, route in enumerate(d["api"]["routes"]):
        params = [p for p in route["path"].split("/") if p.startswith("{")]
        if len(params) != len(set(params)):
            yield ("api", "routes", i, "path"), (
                f"\"{route['path']}\" names a path parameter twice (allowed: a distinct name for each {{param}})")
        for prefix in path_prefixes(route["path"]):
            name = path_name(prefix)
            if names.setdefault(name, prefix) != prefix:
                yield ("api", "routes", i, "path"), (
                    f"\"{prefix}\" and \"{names[name]}\" would share the CloudFormation name Resource{name} "
                    "(allowed: paths that differ by more than punctuation, case of the first letter or braces)")
            parent, _, part = prefix.rpartition("/")
            if part.startswith("{") and variable_child.setdefault(parent, part) != part:
                yield ("api", "routes", i, "path"), (
                    f"\"{prefix}\": {parent or '/'} already has the variable child {variable_child[parent]} "
                    "(allowed: one {param} name per position, as API Gateway requires)")
