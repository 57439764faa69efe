"""Fixtures for the shipping tests: a throw-away project, a target (local AWS or, asked for, a live account),
and the CLI driven exactly as a user drives it (`blueprint.cli.main([...])`).

The local target is the embedded local AWS (moto server over HTTP) started by `blueprint.local.process` in
the project's own `.blueprint/`; the same tests run against a real account with BLUEPRINT_LIVE=1.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from blueprint import cli, scratch
from blueprint.local import process as local
from blueprint.render import settings as stack_settings
from blueprint.ship import aws
from blueprint.state import env_state_dir

ROOT = Path(__file__).resolve().parent.parent.parent
LIVE = os.environ.get("BLUEPRINT_LIVE") == "1"
LIVE_SKIP = "live AWS run not asked for: set BLUEPRINT_LIVE=1 with credentials for a sandbox account"

@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class Project:
    root: Path
    target: str

    def run(self, *argv: str, stdin: str = "") -> Run:
        """`blueprint --root <root> <argv> --target <target>`, capturing what a user would see."""
        args = ["--root", str(self.root), *argv]
        if argv[0] not in ("render", "validate"):
            args += ["--target", self.target]
        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main(args)
        finally:
            sys.stdin = old_stdin
        return Run(code, out.getvalue(), err.getvalue())

    def new_env(self, name: str, extra: str = "") -> None:
        """envs/<name>.yaml = dev's file (+ extra YAML), rendered."""
        text = (self.root / "envs" / "dev.yaml").read_text()
        (self.root / "envs" / f"{name}.yaml").write_text(text + extra)
        assert self.run("render", "--env", name).code == 0

    def ship(self, env: str, *deploy_args: str) -> tuple[Run, Run]:
        """`changeset` (which must succeed), then `deploy`: (the review's run, the deploy's run)."""
        review = self.run("changeset", "--env", env)
        assert review.code == 0, review.text
        return review, self.run("deploy", "--env", env, *deploy_args)

    def bootstrapped_locally(self, why: str, env: str = "dev", timing: Any = None) -> "Project":
        """This project on the local AWS (the test is skipped elsewhere, `why`), started with `timing` when one is
        given, its bootstrap stack deployed from `env`'s spec."""
        if self.target != "local":
            pytest.skip(why)
        if timing is not None:
            local.ensure_running(self.root / ".blueprint", timing)
        run = self.run("bootstrap", "--env", env)
        assert run.code == 0, run.text
        return self

    def state(self, env: str) -> Path:
        """The env's state folder on this target (`.blueprint/<target>/<env>/`)."""
        return env_state_dir(self.root, self.target, env)

    def client(self, service: str) -> Any:
        """An SDK client on the same target and region the CLI used (made by blueprint.aws)."""
        settings = stack_settings.read(self.root, "dev")
        return aws.session_for(settings.region, self.target, self.root).client(service)


TARGETS = ["local", pytest.param("aws", marks=pytest.mark.skipif(not LIVE, reason=LIVE_SKIP))]


@pytest.fixture(scope="module", params=TARGETS)
def target(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def shipped(target: str, tmp_path_factory: pytest.TempPathFactory):
    """A fresh project copy on the target, its local AWS stopped at the end."""
    root = scratch.copy_project(ROOT, tmp_path_factory.mktemp("project"))
    project = Project(root, target)
    assert project.run("render").code == 0  # generated/ as this checkout's templates render it
    yield project
    if target == "local":
        local.stop(root / ".blueprint")  # its resources live in memory: gone with it
        return
    for env_file in sorted((root / "envs").glob("*.yaml")):  # a live account is cleaned up stack by stack
        if env_file.stem != "prod":
            project.run("destroy", "--env", env_file.stem, "--yes")
