"""The embedded local AWS's process (moto server + blueprint's patches) on 127.0.0.1 for `--target local`.

One job: start it detached, find it again, say where it is, stop it. Its state lives in the
project's `.blueprint/` folder: `local-aws.json` (pid, port, started_at) and `local-aws.log`.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint import state

STATE_FILE = "local-aws.json"
LOG_FILE = "local-aws.log"
HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0

# Dummy credentials: the local target must never see real ones (boto3 would otherwise sign with the
# environment's credential chain, and a mistyped endpoint would send them somewhere).
LOCAL_ACCESS_KEY_ID = "testing"
LOCAL_SECRET_ACCESS_KEY = "testing"


def client_kwargs(endpoint: str) -> dict[str, Any]:
    """boto3 client keyword arguments for the local target (the caller adds region_name)."""
    return {
        "endpoint_url": endpoint,
        "aws_access_key_id": LOCAL_ACCESS_KEY_ID,
        "aws_secret_access_key": LOCAL_SECRET_ACCESS_KEY,
        "aws_session_token": None,
    }


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    path = Path(state_dir) / STATE_FILE
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("pid"), int) and isinstance(data.get("port"), int):
            return data
    except (OSError, ValueError):
        pass
    return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else: not ours
        return False
    # A zombie (exited child not yet reaped) still answers kill(0); treat it as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().split(") ", 1)[1].startswith("Z"):
                return False
    except (OSError, IndexError):
        pass
    return True


def _answers(port: int, timeout: float = 1.0) -> bool:
    """True when a moto server answers on the port (moto's /moto-api/ endpoints)."""
    url = f"http://{HOST}:{port}/moto-api/"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed loopback URL
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def status(state_dir: Path) -> dict[str, Any] | None:
    """The running local AWS as {pid, port, started_at, endpoint, log}, or None when none runs."""
    state = _read_state(state_dir)
    if state is None or not _pid_alive(state["pid"]) or not _answers(state["port"]):
        return None
    return {**state, "endpoint": f"http://{HOST}:{state['port']}", "log": str(Path(state_dir) / LOG_FILE)}


def ensure_running(state_dir: Path) -> str:
    """The endpoint URL of a running local AWS, starting one (detached) if needed."""
    state_dir = Path(state_dir)
    running = status(state_dir)
    if running:
        return running["endpoint"]
    # A stale state file (process gone, or not answering): stop what is ours, forget the rest.
    stale = _read_state(state_dir)
    if stale and _pid_alive(stale["pid"]) and _is_our_server(stale["pid"]):
        _terminate(stale["pid"])
    (state_dir / STATE_FILE).unlink(missing_ok=True)

    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the local AWS state folder {state_dir}: {exc.strerror}") from None
    log_path = state_dir / LOG_FILE
    port = _free_port()
    env = dict(os.environ)
    # The server must find this very blueprint package, however the tool was started.
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with open(log_path, "ab") as log:
        log.write(f"--- {datetime.now(timezone.utc).isoformat()} starting on port {port}\n".encode())
        log.flush()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "blueprint.local.server", "--port", str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=str(state_dir),
        )
    state = {"pid": proc.pid, "port": port,
             "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (state_dir / STATE_FILE).unlink(missing_ok=True)
            raise UserError(f"the local AWS exited while starting (exit code {proc.returncode}); "
                            f"see its log {log_path} (is moto[server] installed? pip install 'blueprint[local]')")
        if _answers(port, timeout=0.5):
            return f"http://{HOST}:{port}"
        time.sleep(0.05)
    _terminate(proc.pid)
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    raise UserError(f"the local AWS did not answer on port {port} within {START_TIMEOUT_S:.0f} s; "
                    f"see its log {log_path}")


def _is_our_server(pid: int) -> bool:
    """Only signal a process that is really a blueprint local AWS server (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc (macOS): the state file's pid is all we have
    return b"blueprint.local.server" in cmdline


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:  # reap it if it is our child (tests), else just wait for it to go
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(state_dir: Path) -> bool:
    """Stop the local AWS; True when one was running. Its data is in memory: it is gone with it."""
    state_dir = Path(state_dir)
    state = _read_state(state_dir)
    was_running = False
    if state and _pid_alive(state["pid"]) and _is_our_server(state["pid"]):
        _terminate(state["pid"])
        was_running = True
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    return was_running


def main(args: Any) -> int:
    """`blueprint local up|down|status`."""
    folder = state.state_dir(getattr(args, "root", Path(".")))
    action = args.action
    if action == "up":
        endpoint = ensure_running(folder)
        print(f"local AWS running at {endpoint} (log: {folder / LOG_FILE})")
        print("deploy to it with --target local; stop it with `blueprint local down` (its data is in memory)")
        return 0
    if action == "down":
        if stop(folder):
            print("local AWS stopped (its resources are gone)")
        else:
            print("no local AWS was running")
        return 0
    if action == "status":
        info = status(folder)
        if info is None:
            print("no local AWS is running (start one with `blueprint local up`)")
            return 1
        print(f"local AWS running at {info['endpoint']} (pid {info['pid']}, since {info['started_at']}, "
              f"log: {info['log']})")
        return 0
    raise UserError(f"unknown action {action!r} for `blueprint local`: use up, down or status")
