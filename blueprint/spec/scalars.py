"""What a YAML scalar means, decided so that this tool and the editor never read one file two ways.

PyYAML (this tool) reads YAML 1.1; editors' yaml-language-server reads YAML 1.2. For a plain
(unquoted) scalar the two disagree on `yes`/`on`/`off` (1.1: booleans), `0400` (1.1: octal 256),
`1_000` and `1:30` (1.1: numbers), `1e3` and `0o17` (1.2: numbers). Such a value would mean one
thing in the editor and another in the stack, so it is refused with what to write instead. Per type
of what YAML 1.1 would build beyond JSON's:
  - timestamp (`2024-01-01`) and value (`=`): kept as the text written, which is also how YAML 1.2
    reads them; no key takes a date, and every place one can stand is text (a description, a tag value);
  - an explicit !!binary, !!timestamp, !!set, !!omap, !!pairs or any other tag: refused by name, since
    no key takes bytes, dates, sets or pairs and reading the text instead would ignore what was asked;
  - !!str, !!int, !!float, !!bool, !!null: built as asked (an invalid one, e.g. `!!int x`, is refused).
A key must be text in both readings: `yes:` would become the key true, `~:` the key null.
"""
from __future__ import annotations

import math
import re
from typing import Any

import yaml

TAG = "tag:yaml.org,2002:"
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_BUILT = {f"{TAG}{t}" for t in ("int", "float", "bool", "null")}
_AS_TEXT = {f"{TAG}timestamp", f"{TAG}value"}
_STR = f"{TAG}str"
_MERGE = f"{TAG}merge"
# A plain scalar starting with none of these is text to YAML 1.1 and 1.2 alike (the first characters of
# their bool, null, int, float, timestamp, merge and value forms): the fast path for almost every scalar.
_SPECIAL_FIRST = frozenset("yYnNtTfFoO-+0123456789.<~=")

# YAML 1.2's core schema, as editors resolve plain scalars.
_CORE_NULL = re.compile(r"~|null|Null|NULL|")
_CORE_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_OCT = re.compile(r"0o[0-7]+")
_CORE_HEX = re.compile(r"0x[0-9a-fA-F]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CORE_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_CORE_NAN = re.compile(r"\.(nan|NaN|NAN)")


class Refused(Exception):
    """A scalar this tool will not turn into data; the message says why and what to write instead."""


def _core(text: str) -> Any:
    """A plain scalar as YAML 1.2's core schema reads it."""
    if _CORE_NULL.fullmatch(text):
        return None
    if text in _CORE_BOOL:
        return _CORE_BOOL[text]
    if _CORE_INT.fullmatch(text):
        return int(text, 10)
    if _CORE_OCT.fullmatch(text):
        return int(text[2:], 8)
    if _CORE_HEX.fullmatch(text):
        return int(text[2:], 16)
    if _CORE_FLOAT.fullmatch(text):
        return float(text)
    if _CORE_INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _CORE_NAN.fullmatch(text):
        return math.nan
    return text


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def described(value: Any) -> str:
    """A value read from YAML, as a message names it."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (nothing)"
    return repr(value) if not isinstance(value, float) or math.isfinite(value) else str(value)


def short(tag: str) -> str:
    return "!!" + tag[len(TAG):] if tag.startswith(TAG) else tag


def _cut(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:36]) + "..."


def _construct(tag: str, text: str) -> Any:
    """A scalar of a standard tag as PyYAML (YAML 1.1) builds it."""
    try:
        return _constructor.yaml_constructors[tag](_constructor, yaml.ScalarNode(tag, text))
    except (yaml.YAMLError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # e.g. `!!bool maybe` (KeyError), `!!int x` or a number of more than 4,300 digits (ValueError).
        reason = str(exc).split(";")[0].split("\n")[0]
        raise Refused(f"{_cut(text)} is not a valid !!{tag[len(TAG):]} ({reason}) (allowed: a plain value)") from None


def _readings(text: str) -> tuple[Any, Any] | None:
    """(YAML 1.1's value, YAML 1.2's value) of a plain scalar; None when both read the text as written."""
    resolved = _resolver.resolve(yaml.ScalarNode, text, (True, False))
    if resolved in _AS_TEXT:
        return None
    if resolved == _MERGE:
        raise Refused("'<<' merge keys are not supported (allowed: the keys written out)")
    here = text if resolved == _STR else _construct(resolved, text)
    editors = _core(text)
    if isinstance(here, str) and isinstance(editors, str):
        return None
    return here, editors


def key(event: yaml.ScalarEvent) -> str:
    """A key as text; Refused, saying to quote it, when either YAML reads it as anything else."""
    tag, text = event.tag, event.value
    if tag in ("!", _STR) or (tag is None and (not event.implicit[0] or (text and text[0] not in _SPECIAL_FIRST))):
        return text
    if tag is not None:
        raise Refused(f"a key tagged {short(tag)} is not text (allowed: a plain name)")
    readings = _readings(text)
    if readings is None:
        return text
    here, editors = readings
    reading = (f"YAML reads the key {text} as {described(here)}" if not isinstance(here, str)
               else f"YAML 1.2 (editors) reads the key {text} as {described(editors)}")
    raise Refused(f"{reading}, not as text (quote it: \"{text}\")")


def value(event: yaml.ScalarEvent) -> Any:
    """The value of a scalar; Refused when the two YAMLs read it differently or no spec key takes its type."""
    tag, text = event.tag, event.value
    if tag == "!" or (tag is None and (not event.implicit[0] or (text and text[0] not in _SPECIAL_FIRST))):
        return text  # quoted, a block, the non-specific tag `!` (PyYAML would resolve it anyway), or plainly text
    if tag is None:
        readings = _readings(text)
        if readings is None:
            return text
        here, editors = readings
        if not _same(here, editors):
            raise Refused(f"{text} is read as {described(here)} by YAML 1.1 (this tool) but as {described(editors)} "
                          "by YAML 1.2 (editors) (allowed: true or false, a plain decimal number, or text in quotes: "
                          f"\"{text}\")")
        return here
    if tag == _STR:
        return text
    if tag in _BUILT:
        return _construct(tag, text)
    raise Refused(f"the tag {short(tag)} makes a value no spec key takes (allowed: plain YAML values: text, "
                  "numbers, true/false, lists and maps)")
