"""`make demo` end to end on a copy of the project: every step passes, within the minute it promises."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_the_demo_runs_every_step_and_cleans_up(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("blueprint.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("envs", "schema", "templates", "generated", "handler", "requirements"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, project / name)
    if (ROOT / "build").is_dir():
        # The handler's pinned dependencies for the Lambda platform, already downloaded by pip.
        (project / "build").symlink_to(ROOT / "build", target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "blueprint.demo", "--root", str(project)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=180)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    out = proc.stdout
    for heading in ("Render", "local AWS", "Bootstrap", "change set", "Deploy", "outputs", "Serve",
                    "Create, read, list, update and delete", "403", "preflight", "429", "Stop"):
        assert heading in out
    assert " x 429" in out and "demo passed" in out
    assert elapsed < 60
    assert not (project / ".blueprint" / "local-aws.json").exists()  # the local AWS it started is stopped
