"""A production-tagged environment keeps its stack and its table whatever happens."""
from __future__ import annotations

import json
from typing import Any, Iterator

SECTIONS = ("environment_tag", "protected", "table")
MUST_BE_TRUE = (("protected",), ("table", "deletion_protection"), ("table", "retain_on_delete"))


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    if d.get("environment_tag") != "production":
        return
    for path in MUST_BE_TRUE:
        node: Any = d
        for part in path:
            node = node[part]
        if node is not True:
            yield path, f"{json.dumps(node)} in a production environment (allowed: true, production data must be protected)"
