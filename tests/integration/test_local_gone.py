"""The local AWS killed (SIGKILL) in the middle of a deploy: the deploy says it stopped and that its stacks are
gone, and the next command says so once before it starts a new, empty one.

A module of its own: it kills the module's local AWS, which the other modules' tests go on using.
"""
from __future__ import annotations

import json
import os
import signal

import pytest

from blueprint.ship import events

pytestmark = pytest.mark.integration


def test_a_local_aws_killed_mid_deploy_is_named_and_so_is_what_went_with_it(shipped, monkeypatch):
    project = shipped
    if project.target != "local":
        pytest.skip("kills the local AWS's own process")
    for step in ("bootstrap", "changeset"):
        run = project.run(step, "--env", "dev")
        assert run.code == 0, run.text
    server = json.loads((project.root / ".blueprint" / "local-aws.json").read_text())

    following = events.EventStream.new

    def killed_while_following(self):
        os.kill(server["pid"], signal.SIGKILL)  # as the OOM killer, or a `kill -9` in another terminal would
        return following(self)

    with monkeypatch.context() as patched:
        patched.setattr(events.EventStream, "new", killed_while_following)
        run = project.run("deploy", "--env", "dev")
    assert run.code == 1, run.text  # a failed deploy, not bad input
    assert "Traceback" not in run.text and "cannot reach AWS" not in run.err
    assert f"the local AWS started at {server['started_at']} (pid {server['pid']}, port {server['port']}) " \
           "stopped during this command (killed?); the stacks it held are gone" in run.err
    assert "make bootstrap ENV=<env> TARGET=local" in run.err
    assert "CloudFormation keeps working" not in run.err  # nothing is left to follow

    after = project.run("status", "--env", "dev")
    assert after.code == 0, after.text
    assert f"note: the local AWS started at {server['started_at']} (pid {server['pid']}" in after.err
    assert "is no longer running (killed?); the stacks it held are gone" in after.err
    assert "starting a new, empty one" in after.err
    assert "is not deployed" in after.out  # the new local AWS is empty, and says nothing more about it
    again = project.run("status", "--env", "dev")
    assert again.code == 0 and "no longer running" not in again.err  # said once
    assert json.loads((project.root / ".blueprint" / "local-aws.json").read_text())["pid"] != server["pid"]
