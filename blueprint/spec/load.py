"""Load the spec files and deep-merge them, remembering the file and line that set every value.

`blueprint.yaml` holds the defaults; `envs/<env>.yaml` is merged over it: maps merge key by
key, lists and scalars replace. The result is plain data plus a map from each key path to
where it was written, so that validation can point at the exact line a person must edit.
Reading one file's YAML (and every limit on it) is blueprint.spec.yamlread.
"""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint.spec.yamlread import KeyPath, Location, SpecErrors, dotted, parse_yaml

__all__ = ["KeyPath", "Location", "LoadedSpec", "dotted", "parse_yaml", "load_file", "merge", "environments",
           "check_env_name", "load"]

BASE_FILE = "blueprint.yaml"
ENV_DIR = "envs"
ENV_NAME = re.compile(r"[a-z][a-z0-9]{0,9}")  # matched whole (fullmatch): `$` would let "dev\n" through
MAX_FILE_BYTES = 4 * 1024 * 1024  # a spec file is a few kB; a bigger one is a mistake (or /dev/zero)


@dataclass
class LoadedSpec:
    """The merged spec of one environment, not yet validated."""

    env: str
    data: dict[str, Any]
    locations: dict[KeyPath, Location]
    files: list[str] = field(default_factory=list)

    def where(self, path: KeyPath) -> Location:
        """The closest location written for `path` (a missing key points at its parent)."""
        path = tuple(path)
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return self.locations.get((), Location(self.files[0] if self.files else BASE_FILE, 1))


def _read(root: Path, relative: str) -> str:
    """The text of one spec file; UserError for anything but a readable regular UTF-8 file of sane size."""
    path = root / relative
    try:
        info = os.stat(path)  # follows symlinks: a loop or a dangling link fails here, not in open()
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"{relative}: is a directory, not a file (a spec file is a YAML file)")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"{relative}: is not a regular file (a device, pipe or socket); a spec file is a YAML file")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"{relative}: file not found (run from the project folder, or pass --root)") from None
    except OSError as exc:
        hint = "; a symlink loop?" if exc.errno == errno.ELOOP else ""
        raise UserError(f"{relative}: cannot be read ({exc.strerror or exc}{hint})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise UserError(f"{relative}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB (a spec file is a few kB)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{relative}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def load_file(root: Path, relative: str) -> tuple[dict[str, Any], dict[KeyPath, Location]]:
    """Read one spec file; it must hold a map at the top."""
    data, locations = parse_yaml(_read(root, relative), relative)
    if data is None:
        raise SpecErrors([f"{relative}:1: (top level): the file is empty (it must hold a map of settings)"])
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({str(data)[:40]!r})"
        raise SpecErrors([f"{relative}:1: (top level): the file holds {kind} (it must hold a map of settings)"])
    return data, locations


def merge(base: Any, override: Any, base_locs: dict[KeyPath, Location],
          over_locs: dict[KeyPath, Location], path: KeyPath = ()) -> tuple[Any, dict[KeyPath, Location]]:
    """Deep-merge `override` over `base`: maps merge key by key, everything else replaces.

    Returns the merged value and the locations of its key paths (each from the file that set it).
    Linear in the size of both: a subtree taken whole from one side is walked once for its locations
    (looking each path up), never by scanning all locations for every key.
    """
    locs: dict[KeyPath, Location] = {}
    return _merged(base, override, base_locs, over_locs, path, locs), locs


def _merged(base: Any, override: Any, base_locs: dict[KeyPath, Location], over_locs: dict[KeyPath, Location],
            path: KeyPath, locs: dict[KeyPath, Location]) -> Any:
    if not (isinstance(base, dict) and isinstance(override, dict)):
        _take(override, path, over_locs, locs)
        return override
    loc = over_locs.get(path) or base_locs.get(path)
    if loc:
        locs[path] = loc
    merged: dict[Any, Any] = {}
    for key in list(base) + [k for k in override if k not in base]:
        sub = path + (key,)
        if key in override and key in base:
            merged[key] = _merged(base[key], override[key], base_locs, over_locs, sub, locs)
        elif key in override:
            merged[key] = override[key]
            _take(override[key], sub, over_locs, locs)
        else:
            merged[key] = base[key]
            _take(base[key], sub, base_locs, locs)
    return merged


def _take(value: Any, path: KeyPath, source: dict[KeyPath, Location], out: dict[KeyPath, Location]) -> None:
    """Copy the locations of `value`'s subtree at `path` from `source` (recursion is bounded by MAX_DEPTH)."""
    if path in source:
        out[path] = source[path]
    if isinstance(value, dict):
        for key, sub in value.items():
            _take(sub, path + (key,), source, out)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _take(sub, path + (i,), source, out)


def environments(root: Path) -> list[str]:
    """The environments the project has: one per envs/<env>.yaml, sorted."""
    return sorted(p.stem for p in (root / ENV_DIR).glob("*.yaml"))


def check_env_name(env: str) -> str:
    """`env` when it is an environment's name; UserError otherwise, before any path is built from it.

    Every command that takes --env checks the name first (blueprint.cli), so `ENV=../../etc` is
    refused as a name instead of being looked up as envs/../../etc.yaml.
    """
    if not isinstance(env, str) or not ENV_NAME.fullmatch(env):
        raise UserError(f"environment {env!r}: not an environment name (allowed: 1-10 lowercase letters or "
                        f"digits, starting with a letter, as in {ENV_DIR}/dev.yaml; it becomes part of every "
                        "physical name)")
    return env


def load(root: Path, env: str) -> LoadedSpec:
    """Load blueprint.yaml and envs/<env>.yaml and merge them."""
    check_env_name(env)
    known = environments(root)
    if env not in known:
        have = ", ".join(known) or "none"
        raise UserError(f"environment '{env}': no file {ENV_DIR}/{env}.yaml (environments: {have}; "
                        f"to add one, create {ENV_DIR}/{env}.yaml)")
    base, base_locs = load_file(root, BASE_FILE)
    env_file = f"{ENV_DIR}/{env}.yaml"
    override, over_locs = load_file(root, env_file)
    data, locations = merge(base, override, base_locs, over_locs)
    locations[()] = Location(BASE_FILE, 1)  # a missing top-level key belongs in the base file
    return LoadedSpec(env=env, data=data, locations=locations, files=[BASE_FILE, env_file])
