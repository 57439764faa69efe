"""Load the spec files and deep-merge them, remembering the file and line that set every value.

`blueprint.yaml` holds the defaults; `envs/<env>.yaml` is merged over it: maps merge key by
key, lists and scalars replace. The result is plain data plus a map from each key path to
where it was written, so that validation can point at the exact line a person must edit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from blueprint.errors import UserError

# A path through the spec: ("table", "read_capacity") or ("api", "routes", 0, "path").
KeyPath = tuple[Any, ...]

BASE_FILE = "blueprint.yaml"
ENV_DIR = "envs"
ENV_NAME = re.compile(r"^[a-z][a-z0-9]{0,9}$")

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Location:
    file: str  # relative to the project root, as a person would type it
    line: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


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


def parse_yaml(text: str, file: str) -> tuple[Any, dict[KeyPath, Location]]:
    """Parse one YAML document into plain data and the location of every key path in it."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise UserError(f"{file}:{line}: invalid YAML: {exc.problem or exc.context} (fix the syntax at that line)") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{file}:1: invalid YAML: {exc}") from None
    locations: dict[KeyPath, Location] = {}
    if node is None:
        return None, {(): Location(file, 1)}
    data = _build(node, (), file, locations)
    return data, locations


def _build(node: yaml.Node, path: KeyPath, file: str, locations: dict[KeyPath, Location]) -> Any:
    locations.setdefault(path, Location(file, node.start_mark.line + 1))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise UserError(f"{file}:{key_node.start_mark.line + 1}: {dotted(path) or '(top level)'}: "
                                "a key must be a plain name, not a list or a map")
            key = _scalar(key_node, file)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise UserError(f"{file}:{key_node.start_mark.line + 1}: '<<' merge keys are not supported: write the keys out")
            if key in result:
                first = locations[path + (key,)]
                raise UserError(f"{file}:{key_node.start_mark.line + 1}: {dotted(path + (key,))}: duplicate key "
                                f"(first set at line {first.line}; keep one)")
            locations[path + (key,)] = Location(file, key_node.start_mark.line + 1)
            result[key] = _build(value_node, path + (key,), file, locations)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), file, locations) for i, item in enumerate(node.value)]
    return _scalar(node, file)


def _scalar(node: yaml.ScalarNode, file: str) -> Any:
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise UserError(f"{file}:{node.start_mark.line + 1}: {exc.problem} (use plain YAML values)") from None


def dotted(path: KeyPath) -> str:
    """A key path as a person writes it: `api.routes[0].path`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_file(root: Path, relative: str) -> tuple[dict[str, Any], dict[KeyPath, Location]]:
    """Read one spec file; it must hold a map at the top."""
    path = root / relative
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{relative}: file not found (run from the project folder, or pass --root)") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{relative}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data, locations = parse_yaml(text, relative)
    if data is None:
        raise UserError(f"{relative}:1: the file is empty (it must hold a map of settings)")
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r})"
        raise UserError(f"{relative}:1: the file holds {kind}; it must hold a map of settings")
    return data, locations


def merge(base: Any, override: Any, base_locs: dict[KeyPath, Location],
          over_locs: dict[KeyPath, Location], path: KeyPath = ()) -> tuple[Any, dict[KeyPath, Location]]:
    """Deep-merge `override` over `base`: maps merge key by key, everything else replaces.

    Returns the merged value and the locations of its key paths (each from the file that set it).
    """
    if isinstance(base, dict) and isinstance(override, dict):
        merged: dict[Any, Any] = {}
        locs: dict[KeyPath, Location] = {}
        loc = over_locs.get(path) or base_locs.get(path)
        if loc:
            locs[path] = loc
        for key in list(base) + [k for k in override if k not in base]:
            sub = path + (key,)
            if key in override and key in base:
                merged[key], sub_locs = merge(base[key], override[key], base_locs, over_locs, sub)
            elif key in override:
                merged[key], sub_locs = override[key], _subtree(over_locs, sub)
            else:
                merged[key], sub_locs = base[key], _subtree(base_locs, sub)
            locs.update(sub_locs)
        return merged, locs
    return override, _subtree(over_locs, path)


def _subtree(locs: dict[KeyPath, Location], path: KeyPath) -> dict[KeyPath, Location]:
    n = len(path)
    return {k: v for k, v in locs.items() if k[:n] == path}


def environments(root: Path) -> list[str]:
    """The environments the project has: one per envs/<env>.yaml, sorted."""
    return sorted(p.stem for p in (root / ENV_DIR).glob("*.yaml"))


def load(root: Path, env: str) -> LoadedSpec:
    """Load blueprint.yaml and envs/<env>.yaml and merge them."""
    known = environments(root)
    if env not in known:
        have = ", ".join(known) or "none"
        raise UserError(f"environment '{env}': no file {ENV_DIR}/{env}.yaml (environments: {have}; "
                        f"to add one, create {ENV_DIR}/{env}.yaml)")
    if not ENV_NAME.match(env):
        raise UserError(f"{ENV_DIR}/{env}.yaml: environment names are 1-10 lowercase letters or digits, "
                        "starting with a letter (they become part of every physical name)")
    base, base_locs = load_file(root, BASE_FILE)
    env_file = f"{ENV_DIR}/{env}.yaml"
    override, over_locs = load_file(root, env_file)
    data, locations = merge(base, override, base_locs, over_locs)
    locations[()] = Location(BASE_FILE, 1)  # a missing top-level key belongs in the base file
    return LoadedSpec(env=env, data=data, locations=locations, files=[BASE_FILE, env_file])
