"""The CLI's state folder `.blueprint/` (git-ignored): where each piece of state lives, named once.

  .blueprint/local-aws.json, local-aws.log      the embedded local AWS's process (blueprint.local.process)
  .blueprint/local-aws.lock                     held while a command starts the local AWS
  .blueprint/<target>/<env>/changeset.json      the reviewed change set (blueprint.ship.records)
  .blueprint/<target>/<env>/outputs.json        the stack's outputs after the last deploy
  .blueprint/<target>/<env>/lock                held by the command changing the env's stack (blueprint.ship.lock)
  .blueprint/<target>/bootstrap.<region>.lock   held by `bootstrap` for the region's bootstrap stack
"""
from __future__ import annotations

from pathlib import Path

from blueprint.errors import UserError

TARGET_KINDS = ("aws", "local")
REVIEW_RECORD = "changeset.json"
OUTPUTS = "outputs.json"
LOCK = "lock"


def state_dir(root: Path) -> Path:
    """The CLI's git-ignored state folder of a project."""
    return Path(root) / ".blueprint"


def target_state_dir(root: Path, target_kind: str) -> Path:
    """`<root>/.blueprint/<target>/`: everything one target's commands keep, apart from the other target's."""
    if target_kind not in TARGET_KINDS:
        raise UserError(f"unknown target {target_kind!r}: use aws or local")
    return state_dir(root) / target_kind


def env_state_dir(root: Path, target_kind: str, env: str) -> Path:
    """Where an environment's state on one target lives: the reviewed change set and the last outputs.

    `<root>/.blueprint/<target>/<env>/`, one folder per target, so a `--target local` run never
    overwrites what a `--target aws` review recorded (and the local API reads the local outputs).
    """
    return target_state_dir(root, target_kind) / env


def review_record_path(root: Path, target_kind: str, env: str) -> Path:
    return env_state_dir(root, target_kind, env) / REVIEW_RECORD


def outputs_path(root: Path, target_kind: str, env: str) -> Path:
    return env_state_dir(root, target_kind, env) / OUTPUTS


def lock_path(root: Path, target_kind: str, env: str) -> Path:
    """The lock of an environment's stack on a target (one stack per environment in a project)."""
    return env_state_dir(root, target_kind, env) / LOCK


def rollout_lock_path(root: Path, target_kind: str) -> Path:
    """The lock of the project's rollout on a target: one at a time writes the release manifests."""
    return target_state_dir(root, target_kind) / "rollout.lock"


def bootstrap_lock_path(root: Path, target_kind: str, region: str) -> Path:
    """The lock of a region's bootstrap stack, shared by every environment (a dot: no env is named so)."""
    return target_state_dir(root, target_kind) / f"bootstrap.{region}.lock"
