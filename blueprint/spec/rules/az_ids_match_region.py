"""Pinned AZ IDs: one per subnet (network.az_count of them), each of the environment's region.

An AZ ID names the same physical zone in every account (AZ names such as us-east-1a are mapped per
account), and starts with its region's short code: the region's first part, the initials of its
direction words, its number (us-east-1 -> use1, ap-northeast-1 -> apne1, us-gov-west-1 -> usgw1,
cn-northwest-1 -> cnnw1). AWS documents the form ("the first three letters of the Region code,
followed by the number at the end", e.g. euw1-az1) and publishes the IDs per region; the codes of
the ISO partitions are not published, so there only the form is checked.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

SECTIONS = ("network", "region")
DIRECTIONS = {"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
              "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
_REGION = re.compile(r"([a-z]{2})(-gov)?-([a-z]+)-([0-9]+)")


def region_code(region: str) -> str | None:
    """The short code AZ IDs of `region` start with, or None where it cannot be derived (ISO partitions)."""
    found = _REGION.fullmatch(region)
    if found is None or found.group(3) not in DIRECTIONS:
        return None
    geo, gov, direction, number = found.groups()
    return f"{geo}{'g' if gov else ''}{DIRECTIONS[direction]}{number}"


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    network = d["network"]
    ids = network.get("availability_zones")
    if not ids:
        return
    if len(ids) != network["az_count"]:
        yield ("network", "availability_zones"), (
            f"{len(ids)} AZ IDs for az_count {network['az_count']} (allowed: exactly az_count IDs, one per subnet)")
    code = region_code(d["region"])
    for i, az_id in enumerate(ids):
        if code is not None and az_id.split("-az")[0] != code:
            yield ("network", "availability_zones", i), (
                f"\"{az_id}\" is not an AZ of {d['region']} (allowed: its AZ IDs, {code}-az1, {code}-az2, ...)")
