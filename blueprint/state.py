"""The CLI's state folder `.blueprint/` (git-ignored): where each piece of state lives, named once.

  .blueprint/local-aws.json, local-aws.log      the embedded local AWS's process (blueprint.local.process)
  .blueprint/<target>/<env>/changeset.json      the reviewed change set (blueprint.ship.records)
  .blueprint/<target>/<env>/outputs.json        the stack's outputs after the last deploy
"""
from __future__ import annotations

from pathlib import Path

from blueprint.errors import UserError

TARGET_KINDS = ("aws", "local")
REVIEW_RECORD = "changeset.json"
OUTPUTS = "outputs.json"


def state_dir(root: Path) -> Path:
    """The CLI's git-ignored state folder of a project."""
    return Path(root) / ".blueprint"


def env_state_dir(root: Path, target_kind: str, env: str) -> Path:
    """Where an environment's state on one target lives: the reviewed change set and the last outputs.

    `<root>/.blueprint/<target>/<env>/`, one folder per target, so a `--target local` run never
    overwrites what a `--target aws` review recorded (and the local API reads the local outputs).
    """
    if target_kind not in TARGET_KINDS:
        raise UserError(f"unknown target {target_kind!r}: use aws or local")
    return state_dir(root) / target_kind / env


def review_record_path(root: Path, target_kind: str, env: str) -> Path:
    return env_state_dir(root, target_kind, env) / REVIEW_RECORD


def outputs_path(root: Path, target_kind: str, env: str) -> Path:
    return env_state_dir(root, target_kind, env) / OUTPUTS
