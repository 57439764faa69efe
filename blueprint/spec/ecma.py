"""ECMA-262 regular expressions on Python's `re`: what a JSON Schema `pattern` means, to editors and to us alike.

JSON Schema defines `pattern` as an ECMA-262 regular expression, and editors run it as one. Python's
`re` reads the same text differently in ways that let bad input through: `$` also matches before a
final newline (so "items\\n" passes `^[a-z]+$`), `\\d` and `\\w` match any Unicode digit or letter,
and `.` matches a carriage return. `translate` rewrites a pattern into Python syntax with ECMA's
meaning; a construct it cannot carry over exactly is refused (PatternError) rather than guessed, so
the schema can only hold patterns whose meaning is the same everywhere.
"""
from __future__ import annotations

import re
from functools import lru_cache

# ECMA-262's WhiteSpace and LineTerminator code points: what `\s` matches there.
_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_WORD = "A-Za-z0-9_"
_CLASS_ESCAPES = {"d": "0-9", "w": _WORD, "s": _SPACE}
_ESCAPES = {
    "d": "[0-9]", "D": "[^0-9]", "w": f"[{_WORD}]", "W": f"[^{_WORD}]", "s": f"[{_SPACE}]", "S": f"[^{_SPACE}]",
    # ECMA's word boundary is between an ASCII word character and anything else.
    "b": f"(?:(?<=[{_WORD}])(?![{_WORD}])|(?<![{_WORD}])(?=[{_WORD}]))",
    "B": f"(?:(?<=[{_WORD}])(?=[{_WORD}])|(?<![{_WORD}])(?![{_WORD}]))",
}
_SAME_ESCAPES = set("nrtfv") | set("^$\\.*+?()[]{}|/-")
_QUANTIFIER = re.compile(r"\{[0-9]+(,[0-9]*)?\}")
_GROUP_OPENINGS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")


class PatternError(ValueError):
    """A pattern that uses a construct ECMA-262 and Python's `re` read differently (or that is invalid)."""


def translate(pattern: str) -> str:
    """The Python `re` syntax of an ECMA-262 pattern (no flags), with the same matches."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            piece, i = _escape(pattern, i, in_class=False)
            out.append(piece)
        elif ch == "[":
            piece, i = _char_class(pattern, i)
            out.append(piece)
        elif ch == "$":
            out.append(r"\Z")  # the end of the input only, never before a final newline
            i += 1
        elif ch == "^":
            out.append(r"\A")
            i += 1
        elif ch == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")  # ECMA's `.` stops at every line terminator
            i += 1
        elif ch == "(":
            piece, i = _group_opening(pattern, i)
            out.append(piece)
        elif ch == "{":
            match = _QUANTIFIER.match(pattern, i)
            if not match or i == 0:
                raise PatternError(f"{pattern!r}: a '{{' that is not a quantifier {{n}}, {{n,}} or {{n,m}} (escape it: \\{{)")
            out.append(match.group())
            i = match.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    if i + 1 >= len(pattern):
        raise PatternError(f"{pattern!r}: ends with a lone backslash")
    ch = pattern[i + 1]
    if in_class and ch in _CLASS_ESCAPES:
        return _CLASS_ESCAPES[ch], i + 2
    if in_class and ch in "DWS":
        raise PatternError(f"{pattern!r}: \\{ch} inside [...] has no exact Python equivalent (write the class out)")
    if in_class and ch == "b":
        return "\\x08", i + 2  # backspace inside a class, in both dialects
    if not in_class and ch in _ESCAPES:
        return _ESCAPES[ch], i + 2
    if ch in _SAME_ESCAPES:
        return "\\" + ch, i + 2
    if ch == "0" and not pattern[i + 2:i + 3].isdigit():
        return "\\x00", i + 2
    if ch == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", pattern[i + 2:i + 4]):
        return pattern[i:i + 4], i + 4
    if ch == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", pattern[i + 2:i + 6]):
        return pattern[i:i + 6], i + 6
    if not in_class and ch in "123456789":
        j = i + 1
        while j < len(pattern) and pattern[j].isdigit():
            j += 1
        return "\\" + pattern[i + 1:j], j  # a back-reference
    raise PatternError(f"{pattern!r}: the escape \\{ch} means different things in ECMA-262 and Python (or nothing)")


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    out = ["["]
    i += 1
    if pattern[i:i + 1] == "^":
        out.append("^")
        i += 1
    if pattern[i:i + 1] == "]":
        raise PatternError(f"{pattern!r}: [] and [^] mean 'nothing' and 'anything' in ECMA-262 but not in Python")
    while i < len(pattern):
        ch = pattern[i]
        if ch == "]":
            out.append("]")
            return "".join(out), i + 1
        if ch == "\\":
            piece, i = _escape(pattern, i, in_class=True)
            out.append(piece)
            continue
        # Literal in ECMA-262; Python reserves these (nested sets, set operations) and warns.
        out.append("\\" + ch if ch in "[&~|" else ch)
        i += 1
    raise PatternError(f"{pattern!r}: a '[' without its ']'")


def _group_opening(pattern: str, i: int) -> tuple[str, int]:
    if pattern[i + 1:i + 2] != "?":
        return "(", i + 1
    for opening in _GROUP_OPENINGS:
        if pattern.startswith(opening, i):
            return opening, i + len(opening)
    named = re.compile(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>").match(pattern, i)
    if named:
        return f"(?P<{named.group(1)}>", named.end()
    raise PatternError(f"{pattern!r}: the group {pattern[i:i + 4]!r}... is not ECMA-262 (inline flags are Python's only)")


@lru_cache(maxsize=512)
def compile(pattern: str) -> re.Pattern[str]:  # noqa: A001 - the name says what it replaces
    """The compiled Python equivalent of an ECMA-262 pattern; PatternError when it has none."""
    try:
        return re.compile(translate(pattern))
    except re.error as exc:
        raise PatternError(f"{pattern!r}: not a valid regular expression ({exc})") from None


def search(pattern: str, text: str) -> bool:
    """True when the ECMA-262 `pattern` matches somewhere in `text`, as JSON Schema's `pattern` asks."""
    return compile(pattern).search(text) is not None
