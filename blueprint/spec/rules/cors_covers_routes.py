"""CORS allows every method the routes serve, the preflight itself, and the headers every call sends."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api",)
NEEDED_HEADERS = ("Content-Type", "X-Api-Key")


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    cors = d["api"]["cors"]
    allowed_methods = set(cors["allow_methods"])
    for i, route in enumerate(d["api"]["routes"]):
        for j, method in enumerate(route["methods"]):
            if method not in allowed_methods:
                yield ("api", "routes", i, "methods", j), (
                    f"\"{method}\" is not in api.cors.allow_methods (allowed: add it there, or browsers cannot call it)")
    if "OPTIONS" not in allowed_methods:
        yield ("api", "cors", "allow_methods"), "OPTIONS is missing (allowed: a list including OPTIONS, the preflight method)"
    lower = {h.lower() for h in cors["allow_headers"]}
    for needed in NEEDED_HEADERS:
        if needed.lower() not in lower:
            yield ("api", "cors", "allow_headers"), (
                f"{needed} is missing (allowed: a list including Content-Type and X-Api-Key, which every call sends)")
