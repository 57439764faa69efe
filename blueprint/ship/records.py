"""The state a review leaves for its deploy: `.blueprint/<target>/<env>/changeset.json`, and the outputs file.

A `ReviewRecord` holds what the change-set step knew (which change set, of which template and
package, for which stack version); deploy takes it instead of finding any of that out again. A
record that is not what this module writes is a clear error naming the file, never a traceback.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint.render.settings import StackSettings
from blueprint.state import outputs_path, review_record_path


@dataclass(frozen=True)
class ReviewRecord:
    change_set_id: str
    change_set_name: str
    stack_id: str | None
    stack_name: str
    stack_version: str
    create: bool
    target: str
    region: str
    template_file: str
    template_sha256: str
    package_sha256: str
    code_key: str
    settings: StackSettings  # the stack settings the change set was made with (account pin, policy, runtime)
    summary: str
    reviewed_at: str


_TYPES = {"create": bool, "stack_id": (str, type(None)), "settings": dict}


def _from_data(data: Any, path: Path, env: str) -> ReviewRecord:
    again = f"delete it and run `make changeset ENV={env}` again"
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a review record (it holds {type(data).__name__}); {again}")
    missing = [f.name for f in fields(ReviewRecord) if f.name not in data]
    if missing:
        raise UserError(f"{path}: not a review record (missing {', '.join(missing)}); {again}")
    for f in fields(ReviewRecord):
        if not isinstance(data[f.name], _TYPES.get(f.name, str)):
            raise UserError(f"{path}: {f.name} is {json.dumps(data[f.name])}, not what a review writes; {again}")
    values = {f.name: data[f.name] for f in fields(ReviewRecord)}
    values["settings"] = StackSettings.from_json(json.dumps(data["settings"]), f"{path} (settings)")
    return ReviewRecord(**values)


def write_record(root: Path, env: str, record: ReviewRecord) -> Path:
    path = review_record_path(root, record.target, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(record), "settings": json.loads(record.settings.to_json())}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_record(root: Path, target_kind: str, env: str) -> ReviewRecord:
    path = review_record_path(root, target_kind, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no reviewed change set for {env} ({path} is missing): run `make changeset ENV={env}`, "
                        "review it, then deploy") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} cannot be read ({exc}): delete it and run `make changeset ENV={env}` again") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(f"{path} is not valid JSON: run `make changeset ENV={env}` again") from None
    return _from_data(data, path, env)


def take_record(root: Path, target_kind: str, env: str) -> ReviewRecord | None:
    """Remove the previous record (a new review replaces it, even if it fails); what it held, if readable."""
    path = review_record_path(root, target_kind, env)
    try:
        previous = _from_data(json.loads(path.read_text(encoding="utf-8")), path, env)
    except (OSError, ValueError, UserError):
        previous = None
    path.unlink(missing_ok=True)
    return previous


def forget(root: Path, target_kind: str, env: str) -> None:
    """Drop the environment's review record and outputs (after its stack was deleted)."""
    review_record_path(root, target_kind, env).unlink(missing_ok=True)
    outputs_path(root, target_kind, env).unlink(missing_ok=True)


def write_outputs(root: Path, target_kind: str, env: str, outputs: dict[str, str]) -> Path:
    path = outputs_path(root, target_kind, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
