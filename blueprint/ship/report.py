"""The review printed: text for the person about to deploy, JSON for CI.

Text shows each change's action, logical id, type and Replacement (flagged), then what changed inside
each property, one line per structural entry of blueprint.cfn.values (`Tags + Tier=gold`,
`MethodSettings[* /*].ThrottlingRateLimit: 50 → 80`, the changed lines of a long string); the same
line on several resources is printed once, folded, with the resources it is on. Then the DANGEROUS marks
and what deploy will refuse, and the summary line. JSON carries whole values, the entries and the folds.
Nothing here decides what differs: that is the diff's, this module only words it.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from blueprint.cfn.diff import PropertyChange
from blueprint.cfn.values import Entry, PathStep, Step
from blueprint.ship.review import STATEFUL_TYPES, Change, Review, counts, summary_line

# An added or removed map or list longer than this is shortened in text (JSON carries it whole); changed
# values never are: a diff entry is already only what changed.
VALUE_WIDTH = 300
NAMES_WIDTH = 110  # the names of the resources a folded line is on wrap at this width
FOLD_MIN = 2  # the same line on this many resources is printed once
DRIFTED = ("MODIFIED", "DELETED")  # a resource's drift statuses that a drift-aware change set puts back


def replacement_text(change: Change) -> str:
    """The Replacement column: True/Conditional shouted, the prediction beside a differing answer."""
    if change.action != "Modify":
        return "-"
    if change.replacement is None and change.predicted is None:
        return "unknown (no provider schema)"
    shown = change.replacement or change.predicted or "False"
    text = {"True": "REPLACE (True)", "Conditional": "MAYBE REPLACE (Conditional)"}.get(shown, shown)
    if change.replacement is None and change.predicted is not None:
        text += " (predicted)"
    elif change.predicted and change.predicted != change.replacement:
        text += f" (predicted: {change.predicted})"
    return text


# --- one property change in words ----------------------------------------------------------------

def value_text(value: Any) -> str:
    """A value as the review prints it: strings bare, the rest as compact JSON, long maps/lists shortened."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value else '""'
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) > VALUE_WIDTH:
        return f"{text[:VALUE_WIDTH - 3]}... ({len(text)} characters: --output json has it whole)"
    return text


def label_of(p: PropertyChange) -> str:
    """The property as AWS names it: `Tags`, `Environment/Variables/X` (a target's deeper path), `Metadata`."""
    return p.path.removeprefix("/Properties/").lstrip("/") if p.path else p.name


def path_text(label: str, path: tuple[PathStep, ...]) -> str:
    """`MethodSettings[* /*].ThrottlingRateLimit`: map keys dotted, list items by identity or position."""
    text = label
    for step in path:
        text += f"[{step.label}]" if isinstance(step, Step) else f".{step}"
    return text


def _is_tag(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == {"Key", "Value"}


def _tags_line(label: str, e: Entry, arrow: str) -> str | None:
    """A tag's change as `Tags + Tier=gold`, `Tags - Old=x`, `Tags ~ Tier: silver → gold`; None if not one."""
    if label.rsplit("/", 1)[-1] != "Tags":
        return None
    path, sign = e.path, {"add": "+", "remove": "-"}.get(e.op)
    if not path and sign is None and e.op == "change":  # tags set where there were none, or all taken off
        items, sign = (e.after, "+") if e.before is None else (e.before, "-") if e.after is None else (None, None)
        if isinstance(items, list) and items and all(_is_tag(t) for t in items):
            return f"{label} {sign} " + ", ".join(f"{t['Key']}={value_text(t['Value'])}" for t in items)
        return None
    if len(path) == 1 and sign:
        item = e.after if e.op == "add" else e.before
        if isinstance(path[0], Step) and _is_tag(item):  # a list of {Key, Value}
            return f"{label} {sign} {item['Key']}={value_text(item['Value'])}"
        if isinstance(path[0], str):  # a map of tags (the types that take Tags as a map)
            return f"{label} {sign} {path[0]}={value_text(item)}"
    if e.op == "change" and not e.lines:
        if len(path) == 2 and isinstance(path[0], Step) and path[0].key and path[1] == "Value":
            return f"{label} ~ {path[0].label}: {value_text(e.before)} {arrow} {value_text(e.after)}"
        if len(path) == 1 and isinstance(path[0], str):
            return f"{label} ~ {path[0]}: {value_text(e.before)} {arrow} {value_text(e.after)}"
    return None


def entry_lines(label: str, e: Entry, arrow: str = "→") -> list[str]:
    """One entry in words: its line, then for a changed long string the changed lines (`-old`, `+new`)."""
    tag = _tags_line(label, e, arrow)
    if tag is not None:
        return [tag]
    where = path_text(label, e.path)
    if e.op == "add":
        return [f"{where} + {value_text(e.after)}"]
    if e.op == "remove":
        return [f"{where} - {value_text(e.before)}"]
    if e.op == "order":
        return [f"{where}: order {', '.join(e.before)} {arrow} {', '.join(e.after)}"]
    if e.lines:
        return [f"{where}: changed lines"] + [f"  {line}" for line in e.lines]
    return [f"{where}: {value_text(e.before)} {arrow} {value_text(e.after)}"]


def property_lines(p: PropertyChange, arrow: str = "→") -> list[list[str]]:
    """Each entry of a changed property in words (a list of lines each), recreation noted on each."""
    label = label_of(p)
    entries = p.entries()
    if entries:
        out = [entry_lines(label, e, arrow) for e in entries]
    elif p.before is None and p.after is None:
        out = [[f"{label}: changed (the target gives no values)"]]
    else:  # e.g. the same JSON written with other spacing
        out = [[f"{label}: the same value written differently: {value_text(p.before)} {arrow} {value_text(p.after)}"]]
    if p.requires_recreation in ("Always", "Conditionally"):
        out = [[lines[0] + f"   [requires recreation: {p.requires_recreation}]"] + lines[1:] for lines in out]
    return out


# --- folding --------------------------------------------------------------------------------------

@dataclass
class Folded:
    """One entry's lines printed once for every resource they are on."""
    lines: list[str]
    logical_ids: list[str]


def fold(changes: list[Change], arrow: str = "→") -> tuple[list[Folded], list[list[list[str]]]]:
    """(the lines on FOLD_MIN or more resources, each change's own lines), in the order they first appear.

    Lines are compared as printed, so the same tag added at different positions folds into one.
    """
    per_change = [[lines for p in c.properties for lines in property_lines(p, arrow)] for c in changes]
    on: dict[tuple[str, ...], list[str]] = {}
    for c, entries in zip(changes, per_change):
        for lines in entries:
            ids = on.setdefault(tuple(lines), [])
            if c.logical_id not in ids:
                ids.append(c.logical_id)
    shared = {key for key, ids in on.items() if len(ids) >= FOLD_MIN}
    folded = [Folded(list(key), sorted(ids)) for key, ids in on.items() if key in shared]
    own = [[lines for lines in entries if tuple(lines) not in shared] for entries in per_change]
    return folded, own


def _folded_lines(group: Folded, modified: int, previous: Folded | None = None) -> list[str]:
    count = len(group.logical_ids)
    head, rest = group.lines[0], group.lines[1:]
    if previous is not None and previous.logical_ids == group.logical_ids:  # the names once is enough
        return [f"      {head}   on the same {count} resources"] + [f"        {text}" for text in rest]
    where = f"on all {count} modified resources" if count == modified else f"on {count} resources"
    lines, line = [], f"      {head}   {where}:"
    for n, name in enumerate(group.logical_ids):
        word = f" {name}" + ("," if n < count - 1 else "")
        if len(line) + len(word) > NAMES_WIDTH and not line.endswith(":"):
            lines.append(line)
            line = "         "
        line += word
    lines.append(line)
    return lines + [f"        {text}" for text in rest]


# --- text ---------------------------------------------------------------------------------------

def format_text(review: Review, arrow: str = "→") -> str:
    lines = [_heading(review)]
    if not review.changes:
        lines.append("no changes: the stack already matches the template")
        return "\n".join(lines)
    width_id = max([len("Logical id")] + [len(c.logical_id) for c in review.changes])
    width_type = max([len("Type")] + [len(c.type) for c in review.changes])
    folded, own = fold(review.changes, arrow)
    lines.append(f"  {'Action':<8}{'Logical id':<{width_id + 2}}{'Type':<{width_type + 2}}Replacement")
    for c, entries in zip(review.changes, own):
        mark = "  !! DANGEROUS" if c.dangerous else ""
        if c.drift_status in DRIFTED:  # a drift-aware change set: this change also overwrites drift
            mark += f"  (drifted: {c.drift_status})"
        lines.append(f"  {c.action:<8}{c.logical_id:<{width_id + 2}}{c.type:<{width_type + 2}}"
                     f"{replacement_text(c)}{mark}")
        lines.extend(f"      {text}" if n == 0 else f"        {text}"
                     for entry in entries for n, text in enumerate(entry))
    if folded:
        modified = sum(1 for c in review.changes if c.properties)
        lines.append("  The same change on several resources:")
        for n, group in enumerate(folded):
            lines.extend(_folded_lines(group, modified, folded[n - 1] if n else None))
    for c in review.changes:
        if c.dangerous:
            verb = "removes" if c.action == "Remove" else "replaces"
            lines.append(f"DANGEROUS: this {verb} {c.logical_id} ({c.type}) and the data in it; deploy refuses "
                         f"unless told so: make deploy ENV={review.env or '<env>'} ALLOW_REPLACE={c.logical_id} "
                         f"(blueprint deploy --allow-replace {c.logical_id})")
        elif c.action == "Modify" and c.type in STATEFUL_TYPES and c.effective_replacement is None:
            lines.append(f"UNKNOWN: whether this replaces {c.logical_id} ({c.type}) is not known here (no provider "
                         "schema: install cfn-lint); the change set's review says what CloudFormation will do")
    lines.append(summary_line(review.changes))
    return "\n".join(lines)


def _heading(review: Review) -> str:
    if review.kind == "plan":
        against = "the deployed template" if review.stack_exists else "nothing (the stack does not exist yet)"
        return (f"Plan for stack {review.stack_name} ({review.target}): the rendered template against {against}; "
                "a new handler package shows only in a change set")
    action = "update" if review.stack_exists else "create"
    heading = f"Change set {review.change_set_name} to {action} stack {review.stack_name} ({review.target})"
    if review.deployment_mode:
        heading += f", drift-aware ({review.deployment_mode}; the stack is {review.stack_drift_status or 'UNKNOWN'})"
    return heading


# --- JSON ---------------------------------------------------------------------------------------

def entry_json(label: str, e: Entry) -> dict[str, Any]:
    """An entry for CI: op, the path as the text prints it, the values at that path (an order: identities)."""
    out: dict[str, Any] = {"op": e.op, "path": path_text(label, e.path), "before": e.before, "after": e.after}
    if e.lines:
        out["lines"] = list(e.lines)
    return out


def _property_json(p: PropertyChange) -> dict[str, Any]:
    return {"name": p.name, "path": p.path, "before": p.before, "after": p.after,
            "requires_recreation": p.requires_recreation or None,
            "entries": [entry_json(label_of(p), e) for e in p.entries()]}


def to_json(review: Review) -> dict[str, Any]:
    return {
        "kind": review.kind,
        "stack": review.stack_name,
        "target": review.target,
        "change_set": {"name": review.change_set_name, "id": review.change_set_id} if review.change_set_name else None,
        "stack_exists": review.stack_exists,
        "no_changes": not review.changes,
        "changes": [{
            "action": c.action, "logical_id": c.logical_id, "type": c.type, "physical_id": c.physical_id,
            "replacement": c.replacement, "predicted_replacement": c.predicted, "dangerous": c.dangerous,
            "properties": [_property_json(p) for p in c.properties], "drift_status": c.drift_status,
        } for c in review.changes],
        "deployment_mode": review.deployment_mode,
        "stack_drift_status": review.stack_drift_status,
        "folded": [{"lines": g.lines, "logical_ids": g.logical_ids} for g in fold(review.changes)[0]],
        "dangerous": review.dangerous,
        "summary": counts(review.changes),
        "summary_line": summary_line(review.changes),
    }


def emit(review: Review, output: str = "text", extra: dict[str, Any] | None = None) -> None:
    """Print the review; `extra` adds keys beside the review's own in JSON (text notes are the caller's)."""
    if output == "json":
        print(json.dumps({**to_json(review), **(extra or {})}, indent=2, sort_keys=True, default=str))
        return
    print(format_text(review, arrow()))


def arrow() -> str:
    """→ where stdout can show it; -> on a terminal or pipe that only takes ASCII."""
    encoding = getattr(sys.stdout, "encoding", None)
    if encoding is None:  # an in-memory text stream takes any character
        return "→"
    try:
        "→".encode(encoding)
        return "→"
    except (UnicodeEncodeError, LookupError):
        return "->"
