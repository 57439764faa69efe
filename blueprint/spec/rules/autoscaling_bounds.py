"""Auto scaling's maxima cannot be below the provisioned capacity, which is its minimum."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("table",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    table = d["table"]
    scaling = table.get("autoscaling")
    if not scaling:
        return
    for kind in ("read", "write"):
        if scaling[f"max_{kind}_capacity"] < table[f"{kind}_capacity"]:
            yield ("table", "autoscaling", f"max_{kind}_capacity"), (
                f"{scaling[f'max_{kind}_capacity']} is below table.{kind}_capacity {table[f'{kind}_capacity']} "
                f"(allowed: >= table.{kind}_capacity, the scaling minimum)")
