"""One command at a time changes a stack: the lock `changeset`, `deploy`, `bootstrap` and `destroy` hold.

Without it, two `make deploy` of one review started together both read the record and both executed
its change set; a `changeset` started during a deploy replaced the record and deleted the change set
the deploy was running. The lock is `fcntl.flock` on a file in `.blueprint/` (blueprint.state names
it): the kernel grants it to one open file at a time, atomically, and frees it when its holder exits
however it exits (kill -9 included), so a holder that is gone never blocks anyone. The file names its
holder (pid, host, command, since) for the refusal; a holder that died leaves its name there, and the
next command reports it when it takes the lock over. The file itself is never deleted: a command
that unlinked it could leave a second one locking a new file of the same name.

It guards one checkout's `.blueprint/`: two checkouts (or people) are kept apart by CloudFormation
itself, which executes a change set once and refuses an update while the stack is in progress.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from blueprint.errors import Refused, UserError
from blueprint.ship.aws import make_command
from blueprint.state import bootstrap_lock_path, lock_path, rollout_lock_path

# A holder writes its name right after it got the lock: a refused command waits this long to read it.
NAME_WAIT_S = 1.0


def _read(fd: int) -> dict[str, Any] | None:
    """The holder named in the lock file (None: empty, or not what this module writes)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def describe(holder: dict[str, Any] | None) -> str:
    if holder is None:
        return "another blueprint command (it has not written its name into the lock yet)"
    return (f"`{holder.get('command', '?')}` (pid {holder['pid']} on {holder.get('host', '?')}, "
            f"since {holder.get('since', '?')})")


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"cannot open the lock file {path} ({exc.strerror}): blueprint keeps its state in "
                        f"{path.parent}; make it a writable folder (remove what is in its place) and retry") from None


@contextlib.contextmanager
def hold(path: Path, what: str, command: str, advice: str, out: Any = None) -> Iterator[None]:
    """Hold the lock at `path` for the block; Refused (exit 1) naming the holder when another command has it.

    `what` names the locked thing ("stack items-dev on the local target"), `command` this command as
    the refusal of another shows it, `advice` how to follow the holder's work (`make status ...`).
    """
    fd = _open(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            deadline = time.monotonic() + NAME_WAIT_S
            while holder is None and time.monotonic() < deadline:
                time.sleep(0.05)
                holder = _read(fd)
            stop = f"`kill {holder['pid']}`" if holder else "it"
            raise Refused(
                f"{what} is locked by {describe(holder)}: another command is changing it, so this one did "
                f"nothing. Wait for it to finish ({advice}), then run this again; if that process is stuck, "
                f"stop {stop}: the lock is freed when it exits") from None
        left = _read(fd)
        if left is not None:
            # The lock was free, yet a holder's name is still in the file: that holder never released it.
            print(f"note: took over the lock of {what} from {describe(left)}, which is no longer running "
                  f"(killed?); what it was doing may have stopped half-way: {advice}", file=out or sys.stderr)
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
              "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # released on purpose: an empty file is a free lock
    finally:
        os.close(fd)  # closing the file releases the flock


def env_stack(root: Path, target_kind: str, env: str, verb: str) -> contextlib.AbstractContextManager[None]:
    """The lock of an environment's stack on a target, for `blueprint <verb>`."""
    return hold(lock_path(root, target_kind, env), f"the {env} stack ({target_text(target_kind)})",
                f"blueprint {verb} --env {env} --target {target_kind}",
                f"follow it with `{make_command('status', env, target_kind)}`")


def bootstrap_stack(root: Path, target_kind: str, region: str, env: str) -> contextlib.AbstractContextManager[None]:
    """The lock of a region's bootstrap stack on a target (every environment of the region shares it)."""
    return hold(bootstrap_lock_path(root, target_kind, region),
                f"the bootstrap stack of {region} ({target_text(target_kind)})",
                f"blueprint bootstrap --env {env} --target {target_kind}",
                "it prints the bootstrap stack's events as it goes")


def rollout(root: Path, target_kind: str) -> contextlib.AbstractContextManager[None]:
    """The lock of the project's rollout on a target (each environment's stack lock is taken inside it)."""
    return hold(rollout_lock_path(root, target_kind), f"the rollout ({target_text(target_kind)})",
                f"blueprint rollout --target {target_kind}", "its terminal shows each wave as it goes")


def target_text(target_kind: str) -> str:
    return "the local AWS" if target_kind == "local" else "AWS"
