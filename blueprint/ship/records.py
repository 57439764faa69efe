"""The state a review leaves for its deploy: `.blueprint/<target>/<env>/changeset.json`, and the outputs file.

A `ReviewRecord` holds what the change-set step knew (which change set, of which template, package
and spec files, for which stack version); deploy takes it instead of finding any of that out again.
A record that is not what this module writes (not JSON, `[]`, a partial object, a directory, a file
that cannot be read or replaced) is a clear error naming the file and what to do, never a traceback.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint.render.settings import StackSettings
from blueprint.ship.aws import make_command
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
    # The spec files the reviewed template was rendered from -> their SHA-256 (blueprint.ship.prepare).
    spec_files: dict[str, str]


_TYPES = {"create": bool, "stack_id": (str, type(None)), "settings": dict, "spec_files": dict}


def _again(env: str, target_kind: str) -> str:
    return f"run `{make_command('changeset', env, target_kind)}` again"


def _unusable(path: Path, exc: OSError, again: str, doing: str) -> UserError:
    """A state file that cannot be read or replaced, with what to do about it (`again`: what to run then)."""
    if path.is_dir():
        return UserError(f"{path} is a directory, where blueprint keeps a file: remove it (`rm -r {path}`) and "
                         f"{again}")
    return UserError(f"{path} cannot be {doing} ({exc.strerror or exc}): fix its permissions or remove it, and {again}")


def _from_data(data: Any, path: Path, env: str, target_kind: str) -> ReviewRecord:
    again = f"delete it and {_again(env, target_kind)}"
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a review record (it holds {type(data).__name__}); {again}")
    missing = [f.name for f in fields(ReviewRecord) if f.name not in data]
    if missing:
        raise UserError(f"{path}: not a review record (missing {', '.join(missing)}); {again}")
    for f in fields(ReviewRecord):
        if not isinstance(data[f.name], _TYPES.get(f.name, str)):
            raise UserError(f"{path}: {f.name} is {json.dumps(data[f.name])}, not what a review writes; {again}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data["spec_files"].items()):
        raise UserError(f"{path}: spec_files is {json.dumps(data['spec_files'])}, not what a review writes; {again}")
    values = {f.name: data[f.name] for f in fields(ReviewRecord)}
    values["settings"] = StackSettings.from_json(json.dumps(data["settings"]), f"{path} (settings)")
    return ReviewRecord(**values)


def _write(path: Path, data: Any, again: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise _unusable(path, exc, again, "written") from None
    return path


def _remove(path: Path, again: str) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # a directory in its place, or a folder that cannot be changed
        raise _unusable(path, exc, again, "removed") from None


def write_record(root: Path, env: str, record: ReviewRecord) -> Path:
    data = {**asdict(record), "settings": json.loads(record.settings.to_json())}
    return _write(review_record_path(root, record.target, env), data, _again(env, record.target))


def read_record(root: Path, target_kind: str, env: str) -> ReviewRecord:
    path = review_record_path(root, target_kind, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"no reviewed change set for {env} ({path} is missing): "
                        f"run `{make_command('changeset', env, target_kind)}`, review it, then deploy (if it answers "
                        f"\"no changes\", the stack already runs this template and package: there is nothing to "
                        f"deploy)") from None
    except OSError as exc:
        raise _unusable(path, exc, _again(env, target_kind), "read") from None
    except UnicodeDecodeError:
        raise UserError(f"{path} is not text (not UTF-8), so not a review record: delete it and "
                        f"{_again(env, target_kind)}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise UserError(f"{path} is not valid JSON: {_again(env, target_kind)}") from None
    return _from_data(data, path, env, target_kind)


def take_record(root: Path, target_kind: str, env: str) -> ReviewRecord | None:
    """Remove the previous record (a new review replaces it, even if it fails); what it held, if readable.

    A record that cannot be removed (a directory in its place) is refused before anything is reviewed.
    """
    path = review_record_path(root, target_kind, env)
    try:
        previous = _from_data(json.loads(path.read_text(encoding="utf-8")), path, env, target_kind)
    except (OSError, ValueError, UserError):
        previous = None
    _remove(path, _again(env, target_kind))
    return previous


def forget(root: Path, target_kind: str, env: str) -> None:
    """Drop the environment's review record and outputs (after its stack was deleted)."""
    again = f"run `{make_command('destroy', env, target_kind)}` again (the stack is deleted already)"
    _remove(review_record_path(root, target_kind, env), again)
    _remove(outputs_path(root, target_kind, env), again)


def write_outputs(root: Path, target_kind: str, env: str, outputs: dict[str, str]) -> Path:
    again = f"run `{make_command('outputs', env, target_kind)}` to write them again"
    return _write(outputs_path(root, target_kind, env), outputs, again)
