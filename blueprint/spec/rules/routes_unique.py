"""Each path is declared once, with all its methods."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    seen: dict[str, int] = {}
    for i, route in enumerate(d["api"]["routes"]):
        if route["path"] in seen:
            yield ("api", "routes", i, "path"), (f"\"{route['path']}\" is declared twice (first as routes[{seen[route['path']]}]; "
                                                 "allowed: one entry per path, with all its methods)")
        seen.setdefault(route["path"], i)
