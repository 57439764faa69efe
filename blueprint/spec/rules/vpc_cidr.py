"""The VPC's CIDR is a network address (no host bits set), which the schema's pattern cannot tell."""
from __future__ import annotations

import ipaddress
from typing import Any, Iterator

SECTIONS = ("network",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    cidr = d["network"]["vpc_cidr"]
    try:
        ipaddress.IPv4Network(cidr)
    except ValueError as exc:
        yield ("network", "vpc_cidr"), f"\"{cidr}\" is not a network address: {exc} (allowed: e.g. 10.20.0.0/16)"
