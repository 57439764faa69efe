"""The one template toolkit: how a value reaches the YAML, and the Jinja environment that enforces it.

Every value goes through a quoting filter (`q`) or one of the helpers below, and Jinja's `finalize`
refuses any string that did not, so no spec value can change the template's structure. Numbers
reach the YAML through `number`, in a form YAML reads back as that same number.
"""
from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Iterable

import jinja2

from blueprint.errors import UserError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"
_READABLE_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}  # reviewers read these in pull requests


class Quoted(str):
    """Text that is safe to place in the YAML as it is."""


def quote(value: Any) -> Quoted:
    """A YAML double-quoted, ASCII-only scalar equal to `str(value)`, whatever characters it holds."""
    out = []
    for ch in str(value):
        code = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch in _READABLE_ESCAPES:
            out.append(_READABLE_ESCAPES[ch])
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return Quoted('"' + "".join(out) + '"')


def block(text: str, indent: int) -> Quoted:
    """A YAML literal block scalar of `text`, each line indented: multi-line text (VTL) as it reads.

    `|` keeps the one final newline `text` ends with, `|-` stands for none. Only printable ASCII
    lines without trailing blanks can stand in a block as written; anything else would change on
    the way back, so it is refused here rather than rendered differently.
    """
    body, indicator = (text[:-1], "|") if text.endswith("\n") else (text, "|-")
    lines = body.split("\n")
    unreadable = any(not re.fullmatch(r"[ -~]*", line) or line != line.rstrip() for line in lines)
    if unreadable or not body.strip() or body.startswith(" ") or body.endswith("\n"):
        raise UserError(f"internal: {text!r} cannot be written as a YAML block")
    pad = " " * indent
    return Quoted(indicator + "\n" + "\n".join(pad + line if line else "" for line in lines))


def logical_id(value: str) -> Quoted:
    """A CloudFormation logical id: letters and digits only, checked here rather than trusted."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,254}", value):
        raise UserError(f"internal: {value!r} is not a valid logical id")
    return Quoted(value)


def tag_list(tags: Iterable[tuple[str, str]], indent: int) -> Quoted:
    """A YAML list of {Key, Value} maps, each value quoted."""
    pad = " " * indent
    return Quoted("\n".join(f"{pad}- Key: {quote(k)}\n{pad}  Value: {quote(v)}" for k, v in tags))


def checkov_skip(checks: Iterable[tuple[str, str]], indent: int,
                 nag: Iterable[tuple[str, str] | tuple[str, str, list[str]]] = ()) -> Quoted:
    """A resource's Metadata that skips checkov checks and suppresses cdk-nag rules, each with its written
    reason ("" when there is none). A cdk-nag suppression may name the findings it applies to
    (`applies_to`, e.g. "Resource::*"), so a new wildcard on the same resource is still reported."""
    checks, nag = list(checks), list(nag)
    if not checks and not nag:
        return Quoted("")
    pad = " " * indent
    lines = [f"{pad}Metadata:"]
    if checks:
        lines += [f"{pad}  checkov:", f"{pad}    skip:"]
    for check_id, reason in checks:
        lines += [f"{pad}      - id: {quote(check_id)}", f"{pad}        comment: {quote(reason)}"]
    if nag:
        lines += [f"{pad}  cdk_nag:", f"{pad}    rules_to_suppress:"]
    for rule_id, reason, *applies_to in nag:
        lines += [f"{pad}      - id: {quote(rule_id)}", f"{pad}        reason: {quote(reason)}"]
        if applies_to:
            lines += [f"{pad}        applies_to:"] + [f"{pad}          - {quote(a)}" for a in applies_to[0]]
    return Quoted("\n".join(lines))


def compact_json(value: Any) -> Quoted:
    """A value as compact, key-sorted JSON text, quoted (access-log formats, policies given as text)."""
    return quote(json.dumps(value, sort_keys=True, separators=(",", ":")))


def number(value: Any) -> str:
    """A number as YAML text that CloudFormation's YAML (1.1, as PyYAML) reads back as that same number.

    Python's own spelling fails for some: `str(1e-07)` is "1e-07", which YAML 1.1 reads as text (its
    floats need a point and a signed exponent), and nan/inf have no JSON value at all. So a float is
    written in plain positional notation with a point (the shortest digits that round-trip), an int
    in decimal, and anything non-finite is refused: the schema lets none through, so it is a bug.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"internal: {value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise UserError(f"internal: {value!r} cannot be written in a template (no JSON or CloudFormation value)")
    text = format(Decimal(repr(value)), "f")  # repr: the shortest round-trip digits; "f": never an exponent
    return text if "." in text else text + ".0"


def _finalize(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, Quoted):
        return value
    raise UserError(f"internal: template emitted {value!r} without the `q` filter")


@cache
def environment() -> jinja2.Environment:
    """The Jinja environment of templates/: strict about undefined names and unquoted values."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["q"] = quote
    env.filters["id"] = logical_id
    env.filters["json"] = compact_json
    env.filters["num"] = number  # a number inside text (`~`), spelled as where it stands alone
    env.globals["block"] = block
    env.globals["tag_list"] = tag_list
    env.globals["skip"] = checkov_skip
    return env
