"""Check merged specs against the schema and the cross-field rules; give the data classes of valid ones.

Every problem is reported, each as `FILE:LINE: key.path: what is wrong (what is allowed)`,
pointing at the line of the base or override file that set the value. This is also the
`blueprint validate` command.
"""
from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from blueprint.errors import UserError
from blueprint.spec import load, model, rules
from blueprint.spec.load import KeyPath, LoadedSpec, dotted
from blueprint.spec.yamlread import SpecErrors  # noqa: F401 - where callers have always found it
from blueprint.spec.schema import normalised, schema_problems


def problems(loaded: LoadedSpec) -> list[str]:
    """Every problem of one merged spec, located and sorted by file and line."""
    found: list[tuple[KeyPath, str]] = list(schema_problems(loaded.data))
    broken = {path[0] for path, _ in found if path}  # a missing section is caught by the rule itself
    found.extend(rules.problems(loaded.data, broken))
    located = []
    for path, text in found:
        loc = loaded.where(path)
        located.append((loc.file, loc.line, f"{loc}: {dotted(path) or '(top level)'}: {text}"))
    return [line for _, _, line in sorted(set(located))]


def validated(loaded: LoadedSpec) -> model.Spec:
    """The data classes of a spec without problems; raises SpecErrors with all of them otherwise."""
    found = problems(loaded)
    if found:
        raise SpecErrors(found)
    return model.from_data(loaded.env, normalised(loaded.data), loaded.files)


def selected_envs(root: Path, envs: list[str] | None) -> list[str]:
    """The environments a command names, or all of them."""
    if envs:
        return envs
    found = load.environments(root)
    if not found:
        raise UserError(f"{load.ENV_DIR}/: no environment files (create {load.ENV_DIR}/dev.yaml)")
    return found


def load_valid(root: Path, envs: list[str]) -> list[model.Spec]:
    """Validate every environment; raise one SpecErrors listing all problems of all of them."""
    loaded = [load.load(root, env) for env in envs]
    found: list[str] = []
    for item in loaded:
        found.extend(p for p in problems(item) if p not in found)
    if found:
        raise SpecErrors(found)
    return [validated(item) for item in loaded]


def main(args: Namespace) -> int:
    """`blueprint validate [--env E ...]`."""
    envs = selected_envs(args.root, args.env)
    load_valid(args.root, envs)
    print(f"spec valid: {', '.join(envs)}")
    return 0
