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
from blueprint.render.alarms import HEALTH_ALARM, HEALTH_TYPE, health_alarm_name
from blueprint.render.files import settings_file
from blueprint.spec.model import Spec

BOOTSTRAP_STACK = "blueprint-bootstrap"
# The two parameters every environment's template takes, filled by `blueprint changeset`.
PARAMETERS = {"ArtifactBucket": "from the bootstrap stack's output ArtifactBucketName",
              "CodeKey": "the handler package's S3 key, named by its SHA-256"}


@dataclass(frozen=True)
class RollbackTrigger:
    """An alarm that guards the environment's change sets (CreateChangeSet's RollbackConfiguration).

    Its name is fixed by the spec, so the ARN is known before the stack is read; CloudFormation fails
    an operation whose trigger does not exist yet, so the change set that creates it cannot use it.
    """

    logical_id: str  # the alarm's resource in the template, to tell whether the stack has it yet
    name: str
    type: str  # AWS::CloudWatch::CompositeAlarm or AWS::CloudWatch::Alarm, as RollbackTrigger.Type takes it

    def arn(self, partition: str, region: str, account: str) -> str:
        return f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{self.name}"


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
    # The alarms (spec: alarms): whether the stack has them, the triggers (AWS allows 5) and how long
    # CloudFormation watches them after the last resource (MonitoringTimeInMinutes, 0-180).
    alarms_enabled: bool = False
    rollback_triggers: tuple[RollbackTrigger, ...] = ()
    monitoring_minutes: int = 0

    def to_json(self) -> str:
        data = {
            "stack_name": self.stack_name, "region": self.region, "account_id": self.account_id,
            "tags": self.tags, "termination_protection": self.termination_protection,
            "stack_policy": self.stack_policy, "bootstrap_stack": self.bootstrap_stack,
            "function": {"runtime": self.runtime, "architecture": self.architecture},
            "parameters": PARAMETERS,
            "alarms": {"enabled": self.alarms_enabled, "monitoring_minutes": self.monitoring_minutes,
                       "rollback_triggers": [{"logical_id": r.logical_id, "name": r.name, "type": r.type}
                                             for r in self.rollback_triggers]},
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
            alarms = data.get("alarms", {})  # absent in files and review records written before alarms
            settings = cls(
                stack_name=data["stack_name"], region=data["region"], account_id=data.get("account_id"),
                tags=dict(data["tags"]), termination_protection=data["termination_protection"],
                stack_policy=data.get("stack_policy"), runtime=function["runtime"],
                architecture=function["architecture"], bootstrap_stack=data["bootstrap_stack"],
                alarms_enabled=alarms.get("enabled", False), monitoring_minutes=alarms.get("monitoring_minutes", 0),
                rollback_triggers=tuple(RollbackTrigger(r["logical_id"], r["name"], r["type"])
                                        for r in alarms.get("rollback_triggers", [])))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"{file}: not the file render writes (missing or malformed {exc}); {again}") from None
        for name in ("stack_name", "region", "runtime", "architecture", "bootstrap_stack"):
            if not isinstance(getattr(settings, name), str):
                raise UserError(f"{file}: {name} is not a string; {again}")
        minutes = settings.monitoring_minutes
        if not isinstance(settings.alarms_enabled, bool) or isinstance(minutes, bool) or not isinstance(minutes, int) \
                or not 0 <= minutes <= 180 or not all(isinstance(v, str) for r in settings.rollback_triggers
                                                     for v in (r.logical_id, r.name, r.type)):
            raise UserError(f"{file}: alarms is not what render writes (enabled, monitoring_minutes 0-180, "
                            f"rollback_triggers of logical_id/name/type); {again}")
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
    triggers = (RollbackTrigger(HEALTH_ALARM, health_alarm_name(spec), HEALTH_TYPE),) if spec.alarms.enabled else ()
    return StackSettings(
        stack_name=spec.stack_name, region=spec.region, account_id=spec.account_id, tags=dict(spec.all_tags),
        termination_protection=spec.protected, stack_policy=policy,
        runtime=spec.function.runtime, architecture=spec.function.architecture,
        alarms_enabled=spec.alarms.enabled, rollback_triggers=triggers,
        monitoring_minutes=spec.alarms.monitoring_minutes)


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
