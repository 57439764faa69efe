"""The cross-field rules of the merged spec: what the schema cannot say, one rule a file.

Each rule module names the top-level `SECTIONS` it reads and has a `check(data)` yielding
`(key path, "what is wrong (allowed: ...)")`. A rule runs when the schema found nothing wrong in
its sections, so a spec with a typo in `api` still gets its table rules checked in the same run.
A new rule is a new file here and one entry in `RULES`.
"""
from __future__ import annotations

from typing import Any, Iterator

from blueprint.spec.load import KeyPath
from blueprint.spec.rules import (alarm_windows, api_fits_quotas, auth_headers, auth_settings, autoscaling_bounds,
                                  az_ids_match_region, burst_covers_rate, cors_covers_routes, paths_fit_api_gateway, production_protected,
                                  routes_unique, tag_keys_distinct, timeout_below_gateway, ttl_attribute_free,
                                  vpc_cidr, waf_inspects_body)

RULES = (burst_covers_rate, timeout_below_gateway, ttl_attribute_free, autoscaling_bounds, production_protected,
         vpc_cidr, routes_unique, cors_covers_routes, paths_fit_api_gateway, tag_keys_distinct, api_fits_quotas,
         waf_inspects_body, az_ids_match_region, alarm_windows, auth_settings, auth_headers)


def problems(data: dict[str, Any], broken: set[Any]) -> Iterator[tuple[KeyPath, str]]:
    """The problems of every rule whose sections are present and passed the schema."""
    for rule in RULES:
        if not broken & set(rule.SECTIONS) and all(s in data for s in rule.SECTIONS):
            yield from rule.check(data)
