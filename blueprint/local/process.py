"""The embedded local AWS's process (moto server + blueprint's patches) on 127.0.0.1 for `--target local`.

One job: start it detached, find it again, say where it is, stop it. Its state lives in the
project's `.blueprint/` folder: `local-aws.json` (pid, port, started_at) and `local-aws.log`.

The state file is also the memory that a server ran: when the next command finds that server dead
(killed, or the machine rebooted), it says so once, and that the stacks it held are gone (moto keeps
them in memory), before it starts a new, empty one. A state file that is missing, corrupt or partial
never leads to a second server beside a running one: the server is found in /proc (its working
folder is the state folder, `-m blueprint.local.server` is in its command line) and the file is
written again; without /proc, a corrupt file is refused with what to do.

The server keeps time as it was started (blueprint.local.timing): `local up --timing aws --time-scale
0.05`, or BLUEPRINT_LOCAL_TIMING / BLUEPRINT_LOCAL_TIME_SCALE for the command that starts it. The state
file records it; a running server asked for another timing is not restarted behind the user's back.
"""
from __future__ import annotations

import fcntl
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
from blueprint.local import timing as timing_option
from blueprint.local.timing import Timing

STATE_FILE = "local-aws.json"
LOG_FILE = "local-aws.log"
START_LOCK = "local-aws.lock"
SERVER_MODULE = "blueprint.local.server"
PROC = Path("/proc")
HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0

# Dummy credentials: the local target must never see real ones (boto3 would otherwise sign with the
# environment's credential chain, and a mistyped endpoint would send them somewhere).
LOCAL_ACCESS_KEY_ID = "testing"
LOCAL_SECRET_ACCESS_KEY = "testing"

# endpoint -> state folder of every local AWS this process found or started, so that a connection
# refused later in the command can be told apart: that server died (its stacks with it) or not.
_SERVING: dict[str, Path] = {}


def client_kwargs(endpoint: str) -> dict[str, Any]:
    """boto3 client keyword arguments for the local target (the caller adds region_name)."""
    return {
        "endpoint_url": endpoint,
        "aws_access_key_id": LOCAL_ACCESS_KEY_ID,
        "aws_secret_access_key": LOCAL_SECRET_ACCESS_KEY,
        "aws_session_token": None,
    }


def _read_state(state_dir: Path) -> dict[str, Any] | None:
    """The state file's content when it is what ensure_running writes; None when missing or not that."""
    path = Path(state_dir) / STATE_FILE
    try:
        data = json.loads(path.read_text())
        if isinstance(data, dict) and isinstance(data.get("pid"), int) and isinstance(data.get("port"), int):
            return data
    except (OSError, ValueError):
        pass
    return None


def _write_state(state_dir: Path, state: dict[str, Any]) -> None:
    path = Path(state_dir) / STATE_FILE
    try:
        path.write_text(json.dumps(state, indent=2) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror}): it remembers which local AWS runs; make it a "
                        "writable file (remove what is in its place) and retry") from None


def _forget_state(state_dir: Path) -> None:
    path = Path(state_dir) / STATE_FILE
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise UserError(f"cannot remove {path} ({exc.strerror}): remove it by hand and retry") from None


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


def _endpoint(port: int) -> str:
    return f"http://{HOST}:{port}"


# --------------------------------------------------------------------------- finding our server in /proc

def _server_cmdline(pid: int, state_dir: Path) -> list[str] | None:
    """The command line of the pid when it is a local AWS server started for this state folder, else None."""
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
        cwd = Path(os.readlink(PROC / str(pid) / "cwd"))
    except OSError:
        return None
    ours = "-m" in cmdline and SERVER_MODULE in cmdline and cwd == Path(state_dir).resolve()
    return cmdline if ours else None


def _server_port(pid: int, state_dir: Path) -> int | None:
    """The port of the pid when it is a local AWS server started for this state folder, else None."""
    cmdline = _server_cmdline(pid, state_dir)
    if cmdline is None or "--port" not in cmdline[:-1]:
        return None
    try:
        return int(cmdline[cmdline.index("--port") + 1])
    except ValueError:
        return None


def _started_at(pid: int) -> str:
    """When a process started (UTC, ISO seconds), from /proc/<pid>/stat and the boot time."""
    try:
        ticks = int((PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return "an unknown time"
    started = datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), timezone.utc)
    return started.isoformat(timespec="seconds")


def _find_servers(state_dir: Path) -> list[dict[str, Any]] | None:
    """The running local AWS servers of this state folder, as state dicts; None without /proc to look in."""
    if not (PROC / "self").is_dir():
        return None
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and _pid_alive(int(entry.name)):
            port = _server_port(int(entry.name), state_dir)
            if port is not None:
                timing = timing_option.from_cmdline(_server_cmdline(int(entry.name), state_dir) or [])
                found.append({"pid": int(entry.name), "port": port, "started_at": _started_at(int(entry.name)),
                              **timing.as_state()})
    return found


def _is_our_server(pid: int, state_dir: Path) -> bool:
    """Only signal a process that is really this folder's local AWS server (pids get reused)."""
    if not (PROC / "self").is_dir():
        return True  # no /proc (macOS): the state file's pid is all we have
    return _server_port(pid, state_dir) is not None


def _unknown_state(state_dir: Path) -> UserError:
    path = Path(state_dir) / STATE_FILE
    return UserError(f"{path} is not what blueprint writes (corrupt or partial), and without /proc blueprint cannot "
                     f"tell whether the local AWS it named still runs: stop it if it does (`ps ax | grep "
                     f"{SERVER_MODULE}`, then kill that pid), delete {path}, and retry")


def _located(state_dir: Path) -> dict[str, Any] | None:
    """The running server from the state file, else (a file missing, corrupt, or naming another process)
    found in /proc, the file then written again; None when none runs."""
    state_dir = Path(state_dir)
    recorded = _read_state(state_dir)
    if recorded and _pid_alive(recorded["pid"]) and _answers(recorded["port"]) and \
            _is_our_server(recorded["pid"], state_dir):
        return recorded
    present = (state_dir / STATE_FILE).exists()
    found = _find_servers(state_dir)
    if found is None:
        if present and recorded is None:
            raise _unknown_state(state_dir)
        return None
    for server in found:
        if _answers(server["port"]):
            if recorded is None or {k: recorded.get(k) for k in server} != server:
                what = "missing" if not present else "not what blueprint writes" if recorded is None else \
                    f"naming pid {recorded['pid']}"
                print(f"note: {state_dir / STATE_FILE} was {what}; found the running local AWS (pid "
                      f"{server['pid']}, port {server['port']}) and wrote it again", file=sys.stderr)
                _write_state(state_dir, server)
            return server
    return None


# --------------------------------------------------------------------------- start, status, stop

def status(state_dir: Path) -> dict[str, Any] | None:
    """The running local AWS as {pid, port, started_at, timing, time_scale, endpoint, log}, or None when none runs."""
    state = _located(state_dir)
    if state is None:
        return None
    return {**state, **timing_option.from_state(state).as_state(), "endpoint": _endpoint(state["port"]),
            "log": str(Path(state_dir) / LOG_FILE)}


def gone_message(state: dict[str, Any], what: str = "is no longer running (killed?)") -> str:
    """What to say of a local AWS that was running and is not any more: its stacks went with it."""
    return (f"the local AWS started at {state.get('started_at', 'an unknown time')} (pid {state['pid']}, port "
            f"{state['port']}) {what}; the stacks it held are gone (its state lives in memory): run "
            "`make bootstrap ENV=<env> TARGET=local`, then `make changeset` and `make deploy` with the same ENV "
            "and TARGET=local again")


def stopped_during_command(endpoint: str) -> str | None:
    """For a connection refused or reset: the message when `endpoint` is a local AWS this process used
    that is no longer running, else None (then it was never reachable: a plain "cannot reach")."""
    for known, state_dir in _SERVING.items():
        if endpoint.rstrip("/") == known or endpoint.startswith(known + "/"):
            recorded = _read_state(state_dir)
            if recorded and _endpoint(recorded["port"]) == known and \
                    not (_pid_alive(recorded["pid"]) and _answers(recorded["port"])):
                return gone_message(recorded, "stopped during this command (killed?)")
    return None


def _start_lock(state_dir: Path) -> int:
    """Hold .blueprint/local-aws.lock (blocking) so that two commands starting at once start one server."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(state_dir / START_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"cannot create the local AWS state folder {state_dir}: {exc.strerror}") from None
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def asked_timing(timing: Timing | None = None) -> Timing | None:
    """The timing a command asks for: `timing` if given, else the environment's (None: whatever runs)."""
    if timing is not None:
        return timing
    try:
        return timing_option.from_env(os.environ)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def ensure_running(state_dir: Path, timing: Timing | None = None) -> str:
    """The endpoint URL of a running local AWS, starting one (detached) if needed.

    `timing` (or the environment's BLUEPRINT_LOCAL_TIMING / BLUEPRINT_LOCAL_TIME_SCALE) is the timing a new
    server gets; a running server with another timing is refused rather than restarted (its stacks would go).
    """
    state_dir = Path(state_dir)
    wanted = asked_timing(timing)
    fd = _start_lock(state_dir)
    try:
        endpoint = _ensure_running(state_dir, wanted)
    finally:
        os.close(fd)
    _SERVING[endpoint] = state_dir
    return endpoint


def _ensure_running(state_dir: Path, wanted: Timing | None) -> str:
    running = _located(state_dir)
    if running:
        has = timing_option.from_state(running)
        if wanted is not None and wanted != has:
            raise UserError(f"the local AWS at {_endpoint(running['port'])} runs with {has.describe()}, not "
                            f"{wanted.describe()}: stop it with `blueprint local down` (its stacks are lost) and "
                            "start it again with the timing you want")
        return _endpoint(running["port"])
    # A stale state file (process gone, or not answering): stop what is ours, say what was lost.
    stale = _read_state(state_dir)
    if stale:
        what = "is no longer running (killed?)"
        if _pid_alive(stale["pid"]) and _is_our_server(stale["pid"], state_dir):
            _terminate(stale["pid"])  # alive but not answering: hung
            what = "no longer answered and was stopped"
        print(f"note: {gone_message(stale, what)}; starting a new, empty one", file=sys.stderr)
    _forget_state(state_dir)

    log_path = state_dir / LOG_FILE
    port = _free_port()
    timing = wanted or Timing()
    env = dict(os.environ)
    # The server must find this very blueprint package, however the tool was started.
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    with open(log_path, "ab") as log:
        log.write(f"--- {datetime.now(timezone.utc).isoformat()} starting on port {port} ({timing.describe()})\n"
                  .encode())
        log.flush()
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", SERVER_MODULE, "--port", str(port), *timing.server_args()],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=str(state_dir),
        )
    _write_state(state_dir, {"pid": proc.pid, "port": port,
                             "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             **timing.as_state()})

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            _forget_state(state_dir)
            raise UserError(f"the local AWS exited while starting (exit code {proc.returncode}); "
                            f"see its log {log_path} (is moto[server] installed? pip install 'blueprint[local]')")
        if _answers(port, timeout=0.5):
            return _endpoint(port)
        time.sleep(0.05)
    _terminate(proc.pid)
    _forget_state(state_dir)
    raise UserError(f"the local AWS did not answer on port {port} within {START_TIMEOUT_S:.0f} s; "
                    f"see its log {log_path}")


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
    """Stop the local AWS; True when one was running. Its data is in memory: it is gone with it.

    Every server of this state folder found in /proc is stopped too, so a corrupt state file
    cannot leave one running that `local down` does not know of.
    """
    state_dir = Path(state_dir)
    state = _read_state(state_dir)
    pids = {state["pid"]} if state and _pid_alive(state["pid"]) and _is_our_server(state["pid"], state_dir) else set()
    found = _find_servers(state_dir)
    if found is None and state is None and (state_dir / STATE_FILE).exists():
        raise _unknown_state(state_dir)
    pids |= {server["pid"] for server in found or []}
    for pid in sorted(pids):
        _terminate(pid)
    _forget_state(state_dir)
    return bool(pids)


def _timing_of(args: Any) -> Timing | None:
    """`local up --timing MODE --time-scale F` (the CLI may not have these options: then None)."""
    mode, scale = getattr(args, "timing", None), getattr(args, "time_scale", None)
    if mode is None and scale is None:
        return None
    try:
        return timing_option.parse(mode, scale)
    except ValueError as exc:
        raise UserError(f"blueprint local up: {exc}") from None


def main(args: Any) -> int:
    """`blueprint local up [--timing off|aws] [--time-scale F] | down | status`."""
    folder = state.state_dir(getattr(args, "root", Path(".")))
    action = args.action
    if action == "up":
        endpoint = ensure_running(folder, _timing_of(args))
        info = status(folder) or {}
        print(f"local AWS running at {endpoint} ({timing_option.from_state(info).describe()}; "
              f"log: {folder / LOG_FILE})")
        print("deploy to it with --target local; stop it with `blueprint local down` (its data is in memory)")
        return 0
    if action == "down":
        stale = _read_state(folder)
        if stop(folder):
            print("local AWS stopped (its resources are gone)")
        else:
            print("no local AWS was running" + (f" (the one started at {stale.get('started_at', 'an unknown time')} "
                                                "had stopped already; its stacks are gone)" if stale else ""))
        return 0
    if action == "status":
        info = status(folder)
        if info is None:
            stale = _read_state(folder)
            if stale:
                print(f"note: {gone_message(stale)}")
            print("no local AWS is running (start one with `blueprint local up`)")
            return 1
        print(f"local AWS running at {info['endpoint']} (pid {info['pid']}, since {info['started_at']}, "
              f"{timing_option.from_state(info).describe()}, log: {info['log']})")
        return 0
    raise UserError(f"unknown action {action!r} for `blueprint local`: use up, down or status")
