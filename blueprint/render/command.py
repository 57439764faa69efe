"""`blueprint render [--env E ...] [--check]`: validate, render, then write generated/ or compare with it."""
from __future__ import annotations

import sys
from argparse import Namespace

from blueprint.render.files import stale_files, write
from blueprint.render.templates import render_all
from blueprint.spec.validate import load_valid, selected_envs


def main(args: Namespace) -> int:
    envs = selected_envs(args.root, args.env)
    specs = load_valid(args.root, envs)
    outputs = render_all(args.root, specs)
    if args.check:
        stale = stale_files(args.root, outputs, every_env=not args.env)
        if stale:
            for path in stale:
                print(f"stale: {path}", file=sys.stderr)
            print("generated/ differs from a fresh render: run `make render` and commit the result", file=sys.stderr)
            return 1
        print(f"generated/ is up to date ({len(outputs)} files)")
        return 0
    written = write(args.root, outputs)
    print(f"rendered {len(outputs)} files ({written} changed) for: {', '.join(envs)}")
    return 0
