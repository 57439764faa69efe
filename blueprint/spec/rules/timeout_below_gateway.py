"""The function must finish before API Gateway's Lambda integration gives up (29 s)."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("function",)
API_INTEGRATION_TIMEOUT_S = 29  # API Gateway's ceiling for a Lambda integration


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    timeout = d["function"]["timeout_seconds"]
    if timeout >= API_INTEGRATION_TIMEOUT_S:
        yield ("function", "timeout_seconds"), (
            f"{timeout} s is not below API Gateway's {API_INTEGRATION_TIMEOUT_S} s integration timeout "
            f"(allowed: 1 to {API_INTEGRATION_TIMEOUT_S - 1}; the gateway would answer 504 while the function still runs)")
