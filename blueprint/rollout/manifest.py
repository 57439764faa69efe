"""The release manifest: one package digest and what became of it in every environment it was rolled out to.

`.blueprint/<target>/releases/<sha256>.json`, and per environment it reached `releases/<sha256>/<env>.json`
in that environment's artifacts bucket (the audit record, and how a CI job finds what an earlier job did):
each environment's deploy role may write only its own object, and a reader takes from it only that
environment's entry, so no environment's role can vouch for another's deploy or health. It holds the digest, the package's code key, who started each run and when, and per environment
the wave, stack, template hash, change set, outcome (deployed, unchanged, failed, not started) and
whether its health alarms were quiet after the deploy (and, when the next wave's gate asks, for how long:
`quiet`). A wave reads it to refuse a digest the wave before it did not deploy and find healthy.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint.state import target_state_dir

RELEASES = "releases"
ARTIFACT_PREFIX = "blueprint-release-"  # + <env>: the CI artifact of an environment's job, holding its manifest
GOOD = ("deployed", "unchanged")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def who() -> str:
    """Who runs the rollout: the GitHub actor and run in CI, else user@host."""
    actor = os.environ.get("GITHUB_ACTOR")
    if actor:
        run = os.environ.get("GITHUB_RUN_ID", "?")
        return f"{actor} (GitHub Actions run {run} of {os.environ.get('GITHUB_REPOSITORY', '?')})"
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def commit(root: Path) -> str | None:
    """The checkout's commit (GITHUB_SHA in CI), None outside git."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def path(root: Path, target_kind: str, digest: str) -> Path:
    return target_state_dir(root, target_kind) / RELEASES / f"{digest}.json"


def s3_key(digest: str, env: str) -> str:
    """The environment's own copy in its artifacts bucket (the deploy role's policy allows `releases/*/<env>.json`)."""
    return f"{RELEASES}/{digest}/{env}.json"


def own_part(data: dict[str, Any] | None, env: str) -> dict[str, Any] | None:
    """What `env`'s own copy may say: its entry alone (with the release's digest, package and runs)."""
    if data is None:
        return None
    entries = data["environments"]
    return {**data, "environments": {env: entries[env]} if env in entries else {}}


def new(digest: str, runtime: str, architecture: str, code_key: str) -> dict[str, Any]:
    return {"digest": digest, "runtime": runtime, "architecture": architecture, "code_key": code_key,
            "environments": {}, "runs": []}


def read(root: Path, target_kind: str, digest: str) -> dict[str, Any] | None:
    """The release manifest of `digest` kept in .blueprint/; None when there is none; UserError when unreadable."""
    file = path(root, target_kind, digest)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{file}: not a release manifest ({exc}): delete it, and roll the release out again from "
                        "its first wave") from None
    if not well_formed(data, digest):
        raise UserError(f"{file}: not the release manifest of {digest[:12]}: delete it, and roll the release out "
                        "again from its first wave")
    return data


def well_formed(data: Any, digest: str) -> bool:
    """A manifest of `digest`: its environments' entries and its runs are objects, as this module writes them."""
    return (isinstance(data, dict) and data.get("digest") == digest and isinstance(data.get("environments"), dict)
            and all(isinstance(e, dict) for e in data["environments"].values())
            and isinstance(data.get("runs", []), list) and all(isinstance(r, dict) for r in data.get("runs", [])))


def parse(body: bytes, where: str, digest: str) -> dict[str, Any] | None:
    """A manifest read from S3 or a CI artifact; None when it is not one (it is then ignored, with the local one
    kept)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if well_formed(data, digest) else None


def write(root: Path, target_kind: str, data: dict[str, Any]) -> Path:
    file = path(root, target_kind, data["digest"])
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        tmp.write_text(text(data), encoding="utf-8")
        tmp.replace(file)
    except OSError as exc:
        raise UserError(f"{file} cannot be written ({exc.strerror or exc}): fix the permissions of .blueprint/") from None
    return file


def text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _newness(entry: dict[str, Any]) -> tuple[str, str]:
    """Which of two entries of one environment is the later: its deploy, then the latest look at it since (a
    re-run's check, or the watch of its alarms for the next wave's gate)."""
    quiet = entry.get("quiet") if isinstance(entry.get("quiet"), dict) else {}
    return str(entry.get("at", "")), max(str(quiet.get("at", "")), str(entry.get("checked_at", "")))


def merged(local: dict[str, Any] | None, remote: dict[str, Any] | None) -> dict[str, Any] | None:
    """Two copies of one release's manifest as one: each environment's latest entry, every run once."""
    if local is None or remote is None:
        return local or remote
    envs = dict(local["environments"])
    for env, entry in remote["environments"].items():
        if env not in envs or _newness(entry) > _newness(envs[env]):
            envs[env] = entry
    runs = list(local.get("runs", []))
    runs += [r for r in remote.get("runs", []) if r not in runs]
    return {**local, "environments": envs, "runs": sorted(runs, key=lambda r: str(r.get("started_at", "")))}


def refusal(data: dict[str, Any] | None, digest: str, wave: str, before: str, envs: tuple[str, ...]) -> str | None:
    """Why `wave` may not deploy `digest` (each env of the wave `before` deployed it and was healthy), or None."""
    entries = (data or {}).get("environments", {})
    missing = []
    for env in envs:
        entry = entries.get(env)
        if entry is None or entry.get("outcome") not in GOOD:
            missing.append(f"{env} ({'never rolled out' if entry is None else entry.get('outcome')})")
        elif entry.get("healthy") is not True:
            missing.append(f"{env} (deployed, but its health alarms were not quiet: {entry.get('health', '?')})")
    if not missing:
        return None
    return (f"wave {wave} takes only a package digest that wave {before} deployed and found healthy, and "
            f"{digest[:12]} was not: {', '.join(missing)}. Nothing was deployed to {wave}. Roll it out through "
            f"{before} first (`blueprint rollout --wave {before}`), or run the whole rollout (`make rollout`)")
