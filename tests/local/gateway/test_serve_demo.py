"""`make demo` end to end on a copy of the project: every step passes, within the minute it promises,
on a scratch copy of its own: the project's `.blueprint/` state and running local AWS are left alone."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.integration
def test_the_demo_runs_every_step_and_leaves_the_projects_state_alone(tmp_path):
    from blueprint.local import process as local

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
    # The user's own state: a reviewed change set waiting for `deploy --target aws`, outputs, and
    # a local AWS they are running. The demo must neither delete nor stop any of it.
    state = local.state.state_dir(project)
    records = {state / "aws" / "dev" / "changeset.json": '{"reviewed": true}\n',
               state / "dev" / "outputs.json": '{"ApiKeyId": "abc"}\n',
               state / "local" / "dev" / "outputs.json": '{"ApiKeyId": "def"}\n'}
    for path, text in records.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    users_endpoint = local.ensure_running(state)
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "blueprint.demo", "--root", str(project)], cwd=project,
                              env=env, capture_output=True, text=True, timeout=180)
        elapsed = time.monotonic() - started
        out = proc.stdout
        shown = out[-4000:] + proc.stderr[-2000:]
        assert proc.returncode == 0, shown
        for heading in ("Render", "scratch", "local AWS", "Bootstrap", "change set", "Deploy", "outputs", "Serve",
                        "Create, read, list, update and delete", "403", "preflight", "429", "Stop"):
            assert heading in out, shown
        assert " x 429" in out and "demo passed" in out, shown
        # The guarded deploy (issue 11): the first change set creates the alarm, the second is guarded by it.
        assert "UNGUARDED: no rollback trigger: the alarm items-dev-health does not exist yet" in out, shown
        assert "GUARDED by rollback trigger(s) items-dev-health" in out, shown
        assert "guard: items-dev-health stayed out of ALARM" in out, shown
        assert " drift --env dev --target local" in out, shown
        assert elapsed < 60, shown
        # Its own copy, its own local AWS: both gone afterwards.
        scratch = Path(re.search(r"scratch copy: (\S+)", out).group(1))
        assert not scratch.is_relative_to(project) and not scratch.exists(), shown
        assert {path: path.read_text() for path in records} == records
        # The user's local AWS still runs (asked a few times: a loaded machine may answer slowly).
        for _ in range(10):
            running = local.status(state)
            if running:
                break
            time.sleep(0.5)
        assert running and running["endpoint"] == users_endpoint, shown
    finally:
        local.stop(state)
