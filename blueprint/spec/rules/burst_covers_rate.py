"""A usage plan's burst must hold at least one second of its rate."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    throttle = d["api"]["throttle"]
    if throttle["burst_limit"] < throttle["rate_limit"]:
        yield ("api", "throttle", "burst_limit"), (
            f"{throttle['burst_limit']} is below rate_limit {throttle['rate_limit']} "
            "(allowed: burst_limit >= rate_limit, or the bucket can never hold a second's requests)")
