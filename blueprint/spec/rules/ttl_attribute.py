"""The TTL attribute cannot be the table's key: DynamoDB would expire items by their id."""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("table",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    if d["table"]["ttl"]["attribute"] == "id":
        yield ("table", "ttl", "attribute"), ("\"id\" is the table's partition key "
                                              "(allowed: any other attribute name, e.g. expiresAt)")
