"""The TTL attribute cannot be one the handler writes itself: the item's key or one of its managed fields.

With `ttl.attribute: version` the handler refuses its configuration at cold start, so the stack
deploys a function that fails every request. The list is the handler's own (handler/config.py,
MANAGED_ATTRIBUTES, which its cold-start check uses), read from its source without importing the
handler, so there is no second copy to drift.
"""
from __future__ import annotations

from typing import Any, Iterator

from blueprint.spec.pysource import constant

SECTIONS = ("table",)
HANDLER_CONFIG, MANAGED = "handler/config.py", "MANAGED_ATTRIBUTES"


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    attribute = d["table"]["ttl"]["attribute"]
    managed = sorted(constant(HANDLER_CONFIG, MANAGED))
    if attribute in managed:
        what = "the table's partition key" if attribute == "id" else f"an attribute the handler writes ({HANDLER_CONFIG})"
        yield ("table", "ttl", "attribute"), (f"\"{attribute}\" is {what} (allowed: any name but "
                                              f"{', '.join(managed)}, e.g. expiresAt)")
