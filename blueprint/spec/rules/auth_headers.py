"""With api.auth on, CORS allows the headers the credentials travel in, or browsers cannot send them.

Cognito tokens go in Authorization; SigV4 adds X-Amz-Date (and X-Amz-Security-Token for
temporary credentials, which every role session has).
"""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("api",)
NEEDED = {"none": (), "cognito": ("Authorization",), "iam": ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")}


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    mode = d["api"].get("auth", {"mode": "none"})["mode"]
    lower = {h.lower() for h in d["api"]["cors"]["allow_headers"]}
    for needed in NEEDED[mode]:
        if needed.lower() not in lower:
            yield ("api", "cors", "allow_headers"), (
                f"{needed} is missing with api.auth mode {mode} (allowed: a list including "
                f"{', '.join(NEEDED[mode])}, which an authorized call sends; an environment's file may set "
                "the whole list, since lists replace)")
