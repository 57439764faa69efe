"""Tag keys must differ in more than letter case, from each other and from the tags the tool adds.

IAM treats tag keys that differ only in case as one key (`Team` and `team` on a role cannot both be
there), and the schema refuses `Environment` and `Name` exactly, not `environment` or `NAME`.
TOOL_TAG_KEYS is what the templates add besides the spec's tags; tests/render checks it against
every rendered template.
"""
from __future__ import annotations

from typing import Any, Iterator

SECTIONS = ("tags",)
TOOL_TAG_KEYS = ("Environment", "Name")  # environment_tag on every resource; Name on network resources


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    seen = {key.lower(): f"the tag {key} the tool adds" for key in TOOL_TAG_KEYS}
    for key in d["tags"]:
        first = seen.setdefault(key.lower(), f"tags.{key}")
        if first != f"tags.{key}":
            yield ("tags", key), (f"'{key}' differs from {first} only in letter case (allowed: keys that differ "
                                  "in more than case; IAM reads them as one key)")
