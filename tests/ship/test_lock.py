"""The stack lock: one holder among processes started together, its name in the refusal, a dead holder taken over."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import lock
from blueprint.state import bootstrap_lock_path, lock_path
from tests.conftest import ROOT

# A process that waits for `go`, then tries the lock; the one that gets it holds it until `release` exists.
CONTENDER = """
import os, sys, time
from pathlib import Path
from blueprint.errors import DeployFailed
from blueprint.ship import lock
path, go, release = (Path(p) for p in sys.argv[1:4])
while not go.exists():
    time.sleep(0.005)
try:
    with lock.hold(path, "the dev stack", f"contender {os.getpid()}", "wait"):
        print("held", flush=True)
        while not release.exists():
            time.sleep(0.01)
except DeployFailed as exc:
    print("refused:", exc, flush=True)
"""


def contender(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CONTENDER, *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_processes_started_together_get_the_lock_one_at_a_time(tmp_path):
    path, go, release = tmp_path / ".blueprint" / "local" / "dev" / "lock", tmp_path / "go", tmp_path / "release"
    procs = [contender(tmp_path, path, go, release) for _ in range(4)]
    go.touch()  # all four try at once
    losers = []
    deadline = time.monotonic() + 30
    while len(losers) < 3:  # the winner holds on until released, so the three others are refused
        assert time.monotonic() < deadline, "the losers did not finish"
        losers = [p for p in procs if p.poll() is not None]
        time.sleep(0.02)
    [winner] = [p for p in procs if p not in losers]
    release.touch()
    assert winner.wait(timeout=20) == 0
    assert winner.stdout.read().strip() == "held"
    for p in losers:
        out = p.stdout.read()
        assert out.startswith("refused: the dev stack is locked by `contender "), out + p.stderr.read()
        assert f"pid {winner.pid} on " in out and f"`kill {winner.pid}`" in out
    assert path.read_text() == ""  # released: free for the next command


def test_a_holder_killed_with_sigkill_is_taken_over_with_a_note(tmp_path, capsys):
    path, go, release = tmp_path / "lock", tmp_path / "go", tmp_path / "release"
    go.touch()
    holder = contender(tmp_path, path, go, release)
    wait_for(lambda: path.exists() and path.read_text().strip())
    assert json.loads(path.read_text())["pid"] == holder.pid
    with pytest.raises(DeployFailed, match=f"locked by `contender {holder.pid}`"):
        with lock.hold(path, "the dev stack", "second", "wait"):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    with lock.hold(path, "the dev stack", "third", "follow it with `make status ENV=dev`"):
        assert json.loads(path.read_text())["command"] == "third"
    err = capsys.readouterr().err
    assert f"took over the lock of the dev stack from `contender {holder.pid}` (pid {holder.pid} on" in err
    assert "no longer running (killed?)" in err and "make status ENV=dev" in err


def test_the_lock_is_released_on_an_error_and_names_its_holder(tmp_path):
    path = lock_path(tmp_path, "aws", "dev")
    assert path == tmp_path / ".blueprint" / "aws" / "dev" / "lock"
    assert bootstrap_lock_path(tmp_path, "local", "eu-west-1") == tmp_path / ".blueprint" / "local" / "bootstrap.eu-west-1.lock"
    with pytest.raises(KeyboardInterrupt):
        with lock.env_stack(tmp_path, "aws", "dev", "deploy"):
            held = json.loads(path.read_text())
            assert held["pid"] == os.getpid() and held["command"] == "blueprint deploy --env dev --target aws"
            with pytest.raises(DeployFailed) as err:  # a second holder, even in the same process
                with lock.env_stack(tmp_path, "aws", "dev", "changeset"):
                    pass
            assert "the dev stack (AWS) is locked by `blueprint deploy --env dev --target aws`" in str(err.value)
            assert "make status ENV=dev" in str(err.value)
            raise KeyboardInterrupt
    with lock.env_stack(tmp_path, "aws", "dev", "changeset"):  # Ctrl-C released it
        pass


def test_a_lock_that_cannot_be_created_is_a_user_error(tmp_path):
    (tmp_path / ".blueprint").write_text("not a folder")
    with pytest.raises(UserError, match=r"cannot open the lock file .*\.blueprint/local/dev/lock"):
        with lock.env_stack(tmp_path, "local", "dev", "deploy"):
            pass
