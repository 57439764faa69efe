"""The review as Markdown, for a pull request's comment (`blueprint changeset --output markdown`).

It reads the same data as the JSON output (blueprint.ship.report.to_json, with `previous_stacks` beside
it) and words nothing itself that the text does not: the summary line, one table row per change (action,
logical id, type, replacement, DANGEROUS), each change's property lines in a collapsed block, the folded
lines once. `changeset_main` is the command: with `--output markdown` it runs the JSON review and prints
it as Markdown; every other output is the changeset command as it is.
"""
from __future__ import annotations

import contextlib
import io
import json
from argparse import Namespace
from typing import Any

from blueprint.ship import changeset

MARKER = "<!-- blueprint-review -->"  # the one comment a pull request's workflow updates


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def _replacement(change: dict[str, Any]) -> str:
    answer = change.get("replacement")
    predicted = change.get("predicted_replacement")
    if answer == "True":
        text = "**REPLACE**"
    elif answer == "Conditional":
        text = "**MAYBE REPLACE**"
    elif answer in ("False", None) and predicted == "True":
        text = "**REPLACE** (predicted)"
    else:
        text = "no" if change["action"] != "Add" else ""
    return text


def _entry_lines(prop: dict[str, Any]) -> list[str]:
    out = []
    for entry in prop.get("entries") or []:
        before, after = json.dumps(entry.get("before"), default=str), json.dumps(entry.get("after"), default=str)
        op = entry.get("op")
        if entry.get("lines"):
            out.append(f"{entry['path']}:")
            out.extend(f"    {line}" for line in entry["lines"])
        elif op == "add":
            out.append(f"{entry['path']} + {after}")
        elif op == "remove":
            out.append(f"{entry['path']} - {before}")
        else:
            out.append(f"{entry['path']}: {before} → {after}")
    return out


def format_markdown(data: dict[str, Any]) -> str:
    """One environment's review (report.to_json's data) as a Markdown section."""
    change_set = (data.get("change_set") or {}).get("name")
    verb = "update" if data.get("stack_exists") else "create"
    lines = [f"### `{data['stack']}` ({_cell(data['target'])})", ""]
    if data.get("no_changes"):
        lines.append("No changes: the stack already runs this template and package.")
        return "\n".join(lines) + "\n"
    lines.append(f"Change set `{change_set}` to {verb} the stack: **{data['summary_line']}**")
    if data.get("deployment_mode"):
        lines.append(f"Drift-aware ({data['deployment_mode']}; the stack is {data.get('stack_drift_status')}).")
    lines += ["", "| Action | Logical id | Type | Replacement | |", "|---|---|---|---|---|"]
    for c in data["changes"]:
        mark = "⚠️ **DANGEROUS**" if c.get("dangerous") else ""
        lines.append(f"| {c['action']} | `{_cell(c['logical_id'])}` | `{_cell(c['type'])}` | {_replacement(c)} | {mark} |")
    detailed = [(c, [line for p in c["properties"] for line in _entry_lines(p)]) for c in data["changes"]]
    detailed = [(c, found) for c, found in detailed if found]
    if detailed or data.get("folded"):
        lines += ["", "<details><summary>What changes inside the resources</summary>", "", "```"]
        for c, found in detailed:
            lines.append(f"{c['logical_id']} ({c['type']})")
            lines.extend(f"    {line}" for line in found)
        for group in data.get("folded") or []:
            lines.append(f"the same change on {', '.join(group['logical_ids'])}:")
            lines.extend(f"    {line}" for line in group["lines"])
        lines += ["```", "", "</details>"]
    for c in data["changes"]:
        if c.get("dangerous"):
            lines += ["", f"**DANGEROUS**: this {'removes' if c['action'] == 'Remove' else 'replaces'} "
                          f"`{c['logical_id']}` and the data in it; the deploy refuses it unless named "
                          f"(`--allow-replace {c['logical_id']}`)."]
    lines += _guard_lines(data.get("rollback"))
    for stack in data.get("previous_stacks") or []:
        lines += ["", f"**Note**: `{stack['stack']}` ({stack['status']}) is a stack of this environment under "
                      f"another name; a renamed `service` leaves it running: `{stack['delete_command']}`."]
    return "\n".join(lines) + "\n"


def _guard_lines(rollback: dict[str, Any] | None) -> list[str]:
    """What guards the deploy (the text review's GUARDED/UNGUARDED line), from the JSON's `rollback`."""
    if rollback is None:
        return []
    names = ", ".join(f"`{t['name']}`" for t in rollback["triggers"])
    if rollback["guarded"]:
        line = (f"**Guarded** by rollback trigger(s) {names}: CloudFormation rolls the deploy back if one goes to "
                f"ALARM while it runs or in the {rollback['monitoring_minutes']:g} min after.")
    elif rollback["missing"]:
        line = (f"**Unguarded**: the alarm(s) {', '.join(f'`{n}`' for n in rollback['missing'])} do not exist yet "
                "(this change set creates them); the next change set is guarded.")
    else:
        line = "**Unguarded**: this environment has no alarms (`alarms.enabled` is off)."
    if rollback.get("in_alarm"):
        line += f" ⚠️ Already in ALARM: {', '.join(f'`{n}`' for n in rollback['in_alarm'])}."
    return ["", line]


def changeset_main(args: Namespace) -> int:
    """`blueprint changeset`, and with `--output markdown` its JSON review printed as Markdown."""
    if getattr(args, "output", "text") != "markdown":
        return changeset.main(args)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = changeset.main(Namespace(**{**vars(args), "output": "json"}))
    print(format_markdown(json.loads(buffer.getvalue())), end="")
    return code
