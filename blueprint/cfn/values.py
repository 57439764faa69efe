"""How two template values differ, structurally: the one value diff (blueprint.cfn.diff and the review use it).

A value is what a template or a target holds for a property: maps, lists and scalars. `diff` gives the
changes as entries, each an add, remove or change at a path inside the value, so a one-tag change is one
entry (`Tags[Tier]` added) instead of two whole tag lists to compare by eye:

- maps key by key;
- lists of maps item by item, matched by what identifies an item (IDENTITY: `Key` for tags,
  `HttpMethod` + `ResourcePath` for method settings, `Sid` for policy statements, ...), so their order
  does not hide what changed; a reorder of the same items is one `order` entry;
- other lists by position, aligned as a sequence diff (an inserted item is one add, not a change of
  every item after it);
- long or multi-line strings (VTL, JSON text, descriptions) with their unified diff (`lines`), one-line
  JSON text laid out first so that one changed member is one changed line.

`apply(before, diff(before, after))` gives `after` again: the entries say all that changed. Printing
them is blueprint.ship.report's business; nothing here knows about resources or targets.
"""
from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from typing import Any

# What identifies an item of a list of maps, tried in order: the first whose fields every item of both
# lists has, with values distinct within each list, matches items by identity instead of position.
IDENTITY: tuple[tuple[str, ...], ...] = (
    ("Key",),  # tags
    ("HttpMethod", "ResourcePath"),  # stage method settings
    ("Sid",),  # policy statements (by position when any has no Sid)
    ("AttributeName",),  # DynamoDB attribute definitions and key schema
    ("IndexName",),
    ("StatusCode",),  # method and integration responses
    ("PolicyName",),  # a role's inline policies
    ("ParameterKey",),
    ("ApiId", "Stage"),  # a usage plan's stages
    ("Name",),
    ("Id",),
)
TEXT_WIDTH = 80  # a string longer than this (or with a newline) changes as text: its changed lines
CONTEXT_LINES = 1  # unchanged lines shown around a changed one
CONTEXT_CHARS = 30  # in a changed one-line string, unchanged characters shown around the change
MIDDLE_CHARS = 240  # a changed middle longer than this is cut in the lines (the values stay whole)


@dataclass(frozen=True)
class Step:
    """A step into a list: the item's position before and after (None: not there) and what identifies it.

    `key` is empty in a list matched by position; in one matched by identity it holds the identity's
    fields and their values as text, e.g. (("Key", "Tier"),), the same wherever the item sits.
    """
    before: int | None
    after: int | None
    key: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """`Tier`, `* /*` (method, path), or the position (after if the item is there after)."""
        if self.key:
            return " ".join(value for _, value in self.key)
        return str(self.after if self.after is not None else self.before)


PathStep = str | Step  # a map key, or a list item


@dataclass(frozen=True)
class Entry:
    """One difference at `path` inside the value (an empty path: the value itself).

    op: add | remove | change | order. `lines` is the unified diff of a changed long string (its
    `---`/`+++` header dropped); `moved` is an order entry's permutation: for each position after,
    the item's position before (None for an added item). An order entry's before/after are the
    items' identities (Step.label) in their order before and after.
    """
    op: str
    path: tuple[PathStep, ...]
    before: Any = None
    after: Any = None
    lines: tuple[str, ...] = ()
    moved: tuple[int | None, ...] = ()


# --- values -------------------------------------------------------------------------------------

def canonical(value: Any) -> str:
    """One text per value: maps in key order, so equal values give equal text (and True is not 1)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def same(a: Any, b: Any) -> bool:
    # Python's == alone takes True for 1 and 1.0 for 1; a template tells them apart.
    return a == b and canonical(a) == canonical(b)


def parse(value: Any) -> Any:
    """A target's JSON text of a map or list, decoded; anything else as it is.

    DescribeChangeSet's BeforeValue/AfterValue (and the local AWS's) are strings even for maps and
    lists: diffed as text, a one-tag change would be one long changed line.
    """
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, (dict, list)):
            return decoded
    return value


# --- diff ---------------------------------------------------------------------------------------

def diff(before: Any, after: Any, path: tuple[PathStep, ...] = ()) -> list[Entry]:
    """The entries that turn `before` into `after`; none when they are the same."""
    if same(before, after):
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return _diff_maps(before, after, path)
    if isinstance(before, list) and isinstance(after, list):
        fields = identity(before, after)
        return _diff_keyed(before, after, path, fields) if fields else _diff_positional(before, after, path)
    if isinstance(before, str) and isinstance(after, str) and is_text(before, after):
        return [Entry("change", path, before, after, lines=text_lines(before, after))]
    return [Entry("change", path, before, after)]


def _diff_maps(before: dict[str, Any], after: dict[str, Any], path: tuple[PathStep, ...]) -> list[Entry]:
    out: list[Entry] = []
    # Keys in sorted order: the template, moto and AWS each order a map differently.
    for key in sorted(set(before) | set(after), key=str):
        if key not in after:
            out.append(Entry("remove", path + (key,), before[key], None))
        elif key not in before:
            out.append(Entry("add", path + (key,), None, after[key]))
        else:
            out.extend(diff(before[key], after[key], path + (key,)))
    return out


def identity(before: list[Any], after: list[Any]) -> tuple[str, ...] | None:
    """The IDENTITY fields that match the items of two lists of maps; None: match them by position."""
    items = before + after
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for fields in IDENTITY:
        if all(all(f in item for f in fields) for item in items) and \
                _distinct(before, fields) and _distinct(after, fields):
            return fields
    return None


def _identity_of(item: dict[str, Any], fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(canonical(item[f]) for f in fields)


def _distinct(items: list[dict[str, Any]], fields: tuple[str, ...]) -> bool:
    ids = [_identity_of(item, fields) for item in items]
    return len(set(ids)) == len(ids)


def _key(item: dict[str, Any], fields: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((f, item[f] if isinstance(item[f], str) else canonical(item[f])) for f in fields)


def _diff_keyed(before: list[Any], after: list[Any], path: tuple[PathStep, ...],
                fields: tuple[str, ...]) -> list[Entry]:
    ids_before = [_identity_of(item, fields) for item in before]
    ids_after = [_identity_of(item, fields) for item in after]
    where_after = {k: j for j, k in enumerate(ids_after)}
    where_before = {k: i for i, k in enumerate(ids_before)}
    out: list[Entry] = []
    for i, k in enumerate(ids_before):
        step = Step(i, where_after.get(k), _key(before[i], fields))
        if k not in where_after:
            out.append(Entry("remove", path + (step,), before[i], None))
        else:
            out.extend(diff(before[i], after[where_after[k]], path + (step,)))
    for j, k in enumerate(ids_after):
        if k not in where_before:
            out.append(Entry("add", path + (Step(None, j, _key(after[j], fields)),), None, after[j]))
    kept_before = [k for k in ids_before if k in where_after]
    kept_after = [k for k in ids_after if k in where_before]
    if kept_before != kept_after:  # the same items in another order: say so once, not item by item
        label = {k: Step(i, None, _key(before[i], fields)).label for k, i in where_before.items()}
        out.append(Entry("order", path, tuple(label[k] for k in kept_before), tuple(label[k] for k in kept_after),
                         moved=tuple(where_before.get(k) for k in ids_after)))
    return out


def _diff_positional(before: list[Any], after: list[Any], path: tuple[PathStep, ...]) -> list[Entry]:
    matcher = difflib.SequenceMatcher(None, [canonical(v) for v in before], [canonical(v) for v in after],
                                      autojunk=False)
    out: list[Entry] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # A replaced run is diffed item against item (a changed statement shows its changed field);
        # what is left of the longer side is removed or added.
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for n in range(paired):
            out.extend(diff(before[i1 + n], after[j1 + n], path + (Step(i1 + n, j1 + n),)))
        out.extend(Entry("remove", path + (Step(i, None),), before[i], None) for i in range(i1 + paired, i2))
        out.extend(Entry("add", path + (Step(None, j),), None, after[j]) for j in range(j1 + paired, j2))
    return out


def is_text(before: str, after: str) -> bool:
    """Long, multi-line or JSON text: what reads better as changed lines than as before -> after."""
    return ("\n" in before or "\n" in after or max(len(before), len(after)) > TEXT_WIDTH
            or parse(before) is not before or parse(after) is not after)


def _pretty(text: str) -> str:
    """One-line JSON text laid out a member a line (in its own order); text with lines keeps its own."""
    decoded = parse(text)
    if decoded is text or "\n" in text:
        return text
    return json.dumps(decoded, indent=2, ensure_ascii=False)


def text_lines(before: str, after: str) -> tuple[str, ...]:
    """The unified diff of two strings, without its file header; hunk headers only for multi-line text.

    Two one-line strings give their differing middles (`-...req/s, burst 100`), with CONTEXT_CHARS of
    what they share around it: the rest is the same on both lines and only hides the change.
    """
    old, new = _pretty(before).splitlines(), _pretty(after).splitlines()
    if len(old) <= 1 and len(new) <= 1:
        a, b = (old or [""])[0], (new or [""])[0]
        return ("-" + excerpt(a, b), "+" + excerpt(b, a))
    return tuple(difflib.unified_diff(old, new, n=CONTEXT_LINES, lineterm=""))[2:]


def excerpt(line: str, other: str) -> str:
    """`line` cut to where it differs from `other`, CONTEXT_CHARS either side, `...` marking a cut;
    a differing middle longer than MIDDLE_CHARS is cut too, its length said."""
    prefix = len(os.path.commonprefix([line, other]))
    suffix = len(os.path.commonprefix([line[prefix:][::-1], other[prefix:][::-1]]))
    start, end = max(0, prefix - CONTEXT_CHARS), min(len(line), len(line) - suffix + CONTEXT_CHARS)
    middle = line[prefix:len(line) - suffix]
    if len(middle) > MIDDLE_CHARS:
        middle = f"{middle[:MIDDLE_CHARS]}... ({len(line) - prefix - suffix} characters differ)"
    return ("..." if start else "") + line[start:prefix] + middle + line[len(line) - suffix:end] + \
        ("..." if end < len(line) else "")


# --- apply --------------------------------------------------------------------------------------

def apply(value: Any, entries: list[Entry]) -> Any:
    """`value` with the entries applied: apply(before, diff(before, after)) is after."""
    whole = [e for e in entries if not e.path and e.op != "order"]
    if whole:
        return whole[-1].after
    if isinstance(value, dict):
        return _apply_map(value, entries)
    if isinstance(value, list):
        return _apply_list(value, entries)
    return value


def _groups(entries: list[Entry]) -> dict[PathStep, list[Entry]]:
    out: dict[PathStep, list[Entry]] = {}
    for e in entries:
        if e.path:
            out.setdefault(e.path[0], []).append(e)
    return out


def _tail(entries: list[Entry]) -> list[Entry]:
    return [Entry(e.op, e.path[1:], e.before, e.after, e.lines, e.moved) for e in entries]


def _apply_map(value: dict[str, Any], entries: list[Entry]) -> dict[str, Any]:
    out = dict(value)
    for key, group in _groups(entries).items():
        here = [e for e in group if len(e.path) == 1 and e.op in ("add", "remove")]
        if here and here[0].op == "remove":
            out.pop(key, None)  # type: ignore[arg-type]
        elif here:
            out[key] = here[0].after  # type: ignore[index]
        else:
            out[key] = apply(out[key], _tail(group))  # type: ignore[index]
    return out


def _apply_list(value: list[Any], entries: list[Entry]) -> list[Any]:
    removed: set[int] = set()
    added: dict[int, Any] = {}
    changed: dict[int, Any] = {}
    for step, group in _groups(entries).items():
        assert isinstance(step, Step), "a list is entered by Step"
        if step.before is None:
            added[step.after] = group[0].after  # type: ignore[index]
        elif len(group[0].path) == 1 and group[0].op == "remove":
            removed.add(step.before)
        else:
            changed[step.before] = apply(value[step.before], _tail(group))
    order = next((e for e in entries if not e.path and e.op == "order"), None)
    if order is not None:
        return [added[j] if i is None else changed.get(i, value[i]) for j, i in enumerate(order.moved)]
    # Kept items keep their relative order, so inserting the added ones where they sit after
    # (lowest position first) rebuilds the list.
    out = [changed.get(i, item) for i, item in enumerate(value) if i not in removed]
    for j in sorted(added):
        out.insert(j, added[j])
    return out
