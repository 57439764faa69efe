"""The offline commands: `validate` and `render` over one or all environments."""
from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from blueprint import spec
from blueprint.errors import UserError
from blueprint.validate import SpecErrors, problems, validated


def selected_envs(root: Path, envs: list[str] | None) -> list[str]:
    if envs:
        return envs
    found = spec.environments(root)
    if not found:
        raise UserError(f"{spec.ENV_DIR}/: no environment files (create {spec.ENV_DIR}/dev.yaml)")
    return found


def load_valid(root: Path, envs: list[str]):
    """Validate every environment; raise one SpecErrors listing all problems of all of them."""
    loaded = [spec.load(root, env) for env in envs]
    found: list[str] = []
    for item in loaded:
        found.extend(p for p in problems(item) if p not in found)
    if found:
        raise SpecErrors(found)
    return [validated(item) for item in loaded]


def validate(args: Namespace) -> int:
    envs = selected_envs(args.root, args.env)
    load_valid(args.root, envs)
    print(f"spec valid: {', '.join(envs)}")
    return 0


def render(args: Namespace) -> int:
    from blueprint import render as renderer

    envs = selected_envs(args.root, args.env)
    specs = load_valid(args.root, envs)
    outputs = renderer.render_all(args.root, specs)
    if args.check:
        stale = renderer.stale_files(args.root, outputs, every_env=not args.env)
        if stale:
            for path in stale:
                print(f"stale: {path}", file=sys.stderr)
            print("generated/ differs from a fresh render: run `make render` and commit the result", file=sys.stderr)
            return 1
        print(f"generated/ is up to date ({len(outputs)} files)")
        return 0
    written = renderer.write(args.root, outputs)
    print(f"rendered {len(outputs)} files ({written} changed) for: {', '.join(envs)}")
    return 0
