"""The review printed: text for the person about to deploy, JSON for CI.

Text shows each change's action, logical id, type and Replacement (flagged), every changed property
before -> after, DANGEROUS marks and what deploy will refuse, then the summary line.
"""
from __future__ import annotations

import json
import sys
from typing import Any

from blueprint.cfn.diff import PropertyChange
from blueprint.ship.review import STATEFUL_TYPES, Change, Review, counts, summary_line

VALUE_WIDTH = 160  # longer before/after values are shortened in text; JSON carries them whole


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


def short(value: Any) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."


def _property_line(p: PropertyChange, arrow: str) -> str:
    label = p.path.removeprefix("/Properties/") if p.path else p.name
    line = f"      {label}: {short(p.before)} {arrow} {short(p.after)}"
    if p.requires_recreation in ("Always", "Conditionally"):
        line += f"   [requires recreation: {p.requires_recreation}]"
    return line


def format_text(review: Review, arrow: str = "→") -> str:
    lines = [_heading(review)]
    if not review.changes:
        lines.append("no changes: the stack already matches the template")
        return "\n".join(lines)
    width_id = max([len("Logical id")] + [len(c.logical_id) for c in review.changes])
    width_type = max([len("Type")] + [len(c.type) for c in review.changes])
    lines.append(f"  {'Action':<8}{'Logical id':<{width_id + 2}}{'Type':<{width_type + 2}}Replacement")
    for c in review.changes:
        mark = "  !! DANGEROUS" if c.dangerous else ""
        lines.append(f"  {c.action:<8}{c.logical_id:<{width_id + 2}}{c.type:<{width_type + 2}}"
                     f"{replacement_text(c)}{mark}")
        lines.extend(_property_line(p, arrow) for p in c.properties)
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
    return f"Change set {review.change_set_name} to {action} stack {review.stack_name} ({review.target})"


# --- JSON ---------------------------------------------------------------------------------------

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
            "properties": [{"name": p.name, "path": p.path, "before": p.before, "after": p.after,
                            "requires_recreation": p.requires_recreation or None} for p in c.properties],
        } for c in review.changes],
        "dangerous": review.dangerous,
        "summary": counts(review.changes),
        "summary_line": summary_line(review.changes),
    }


def emit(review: Review, output: str = "text") -> None:
    if output == "json":
        print(json.dumps(to_json(review), indent=2, sort_keys=True, default=str))
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
