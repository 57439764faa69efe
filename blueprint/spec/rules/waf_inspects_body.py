"""With the WAF on, the largest body the handler accepts fits what WAF can inspect for API Gateway (64 KB).

API Gateway forwards at most a body's first 64 KB to WAF (DefaultSizeInspectionLimit KB_64, the
largest it offers); the rest of a bigger body would pass the web ACL's body rules uninspected, so
such a limit is refused rather than half protected. Up to 64 KB the template counts (not blocks)
the common rule set's 8 KB SizeRestrictions_BODY and raises the inspection limit to hold the whole
body (render/context.py: waf_body).
"""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api", "function")
WAF_INSPECTS_AT_MOST = 64 * 1024  # bytes: DefaultSizeInspectionLimit KB_64


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    size = d["function"]["max_body_bytes"]
    if d["api"]["waf"] and size > WAF_INSPECTS_AT_MOST:
        yield ("function", "max_body_bytes"), (
            f"{size} bytes with api.waf on: WAF inspects at most the first {WAF_INSPECTS_AT_MOST} bytes of a body "
            f"for API Gateway (allowed: up to {WAF_INSPECTS_AT_MOST} while the WAF is on)")
