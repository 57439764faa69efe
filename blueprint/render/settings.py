"""What the deploy step adds beside the template (generated/<env>/stack.json), rendered for review with it.

`StackSettings` is written by render and read by the shipping commands that do not render first
(status, outputs, destroy) and by the local API; a missing or malformed file is a clear error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blueprint.errors import UserError
from blueprint.render.files import settings_file
from blueprint.spec.model import Spec

BOOTSTRAP_STACK = "blueprint-bootstrap"
# The two parameters every environment's template takes, filled by `blueprint changeset`.
PARAMETERS = {"ArtifactBucket": "from the bootstrap stack's output ArtifactBucketName",
              "CodeKey": "the handler package's S3 key, named by its SHA-256"}


@dataclass(frozen=True)
class StackSettings:
    stack_name: str
    region: str
    account_id: str | None
    tags: dict[str, str] = field(hash=False)
    termination_protection: bool
    stack_policy: dict[str, Any] | None = field(hash=False)
    runtime: str
    architecture: str
    bootstrap_stack: str = BOOTSTRAP_STACK

    def to_json(self) -> str:
        data = {
            "stack_name": self.stack_name, "region": self.region, "account_id": self.account_id,
            "tags": self.tags, "termination_protection": self.termination_protection,
            "stack_policy": self.stack_policy, "bootstrap_stack": self.bootstrap_stack,
            "function": {"runtime": self.runtime, "architecture": self.architecture},
            "parameters": PARAMETERS,
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, file: str) -> "StackSettings":
        """Read stack.json text; UserError naming the file and the key when it is not what render writes."""
        again = "run `make render` to write it again"
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UserError(f"{file}: not valid JSON ({exc}); {again}") from None
        try:
            function = data["function"]
            settings = cls(
                stack_name=data["stack_name"], region=data["region"], account_id=data.get("account_id"),
                tags=dict(data["tags"]), termination_protection=data["termination_protection"],
                stack_policy=data.get("stack_policy"), runtime=function["runtime"],
                architecture=function["architecture"], bootstrap_stack=data["bootstrap_stack"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{file}: not the file render writes (missing or malformed {exc}); {again}") from None
        for name in ("stack_name", "region", "runtime", "architecture", "bootstrap_stack"):
            if not isinstance(getattr(settings, name), str):
                raise UserError(f"{file}: {name} is not a string; {again}")
        return settings


def from_spec(spec: Spec) -> StackSettings:
    """The stack settings of a validated spec."""
    policy = None
    if spec.protected:
        policy = {"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
             "Resource": "LogicalResourceId/Table"},
        ]}
    return StackSettings(
        stack_name=spec.stack_name, region=spec.region, account_id=spec.account_id, tags=dict(spec.all_tags),
        termination_protection=spec.protected, stack_policy=policy,
        runtime=spec.function.runtime, architecture=spec.function.architecture)


def read(root: Path, env: str) -> StackSettings:
    """generated/<env>/stack.json as render wrote it; UserError (not a traceback) when missing or unreadable."""
    rel = settings_file(env)
    path = Path(root) / rel
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{rel} is missing: run `make render ENV={env}` (is envs/{env}.yaml there?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{rel} is unreadable ({exc}): run `make render ENV={env}` again") from None
    return StackSettings.from_json(text, rel)
