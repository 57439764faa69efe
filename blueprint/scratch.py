"""Copy a project's spec, generated/ and handler into another folder: a scratch project with its own state.

The demo, the integration tests and the benchmarks ship from such a copy, so nothing they do
touches the user's `.blueprint/` (change-set records, outputs, local AWS).
"""
from __future__ import annotations

import shutil
from pathlib import Path

FILES = ("blueprint.yaml",)
DIRS = ("envs", "generated", "handler", "requirements")


def copy_project(project: Path, dest: Path) -> Path:
    """Copy what `render`, `package` and the shipping commands read from `project` into `dest`.

    The handler's pinned Lambda-platform dependencies are not copied: `build/pip-cache` links to
    the project's own cache (created if missing), so they are downloaded once for every copy.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copy2(project / name, dest / name)
    for name in DIRS:
        if (project / name).is_dir():
            shutil.copytree(project / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    cache = project / "build" / "pip-cache"
    cache.mkdir(parents=True, exist_ok=True)
    (dest / "build").mkdir(exist_ok=True)
    (dest / "build" / "pip-cache").symlink_to(cache.resolve(), target_is_directory=True)
    return dest
