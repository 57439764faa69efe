"""Which alarms guard a change set: CreateChangeSet's RollbackConfiguration, and what its review says of it.

The triggers are the spec's (stack.json: the health alarm), but only those whose alarm exists in the account
now: CloudFormation fails an operation whose trigger alarm is missing, so the change set that creates the
alarms goes unguarded, and says so. With no trigger to send the configuration is left out, never sent as an
empty list, which would clear the triggers an earlier deploy set; except when the stack has triggers that
must go (alarms switched off, or an alarm deleted): then the empty list is sent on purpose, and the review
says that too. On the local target the monitoring window is shortened (LOCAL_MONITORING_MINUTES, further
multiplied by the local AWS's time scale) so local deploys and tests stay fast.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blueprint.render.settings import StackSettings
from blueprint.ship import aws

MAX_TRIGGERS = 5  # AWS's limit on RollbackTriggers
LOCAL_MONITORING_MINUTES = 1


@dataclass(frozen=True)
class Trigger:
    name: str
    arn: str
    type: str


@dataclass(frozen=True)
class Guard:
    """The rollback triggers of one change set, decided before it is created."""

    triggers: tuple[Trigger, ...]  # the spec's triggers whose alarm exists: they guard this change set
    missing: tuple[str, ...]  # the spec's triggers whose alarm does not exist yet (this change set creates them)
    minutes: int  # MonitoringTimeInMinutes sent
    spec_minutes: int  # what the spec asks (alarms.monitoring_minutes)
    target_kind: str = "aws"
    clears: tuple[str, ...] = ()  # the stack's current trigger ARNs an empty list takes off
    time_scale: float = 1.0  # the local AWS's: its monitoring window lasts minutes x 60 x time_scale seconds
    alarming: tuple[str, ...] = ()  # triggers in ALARM now: they would roll the change set back at once

    def configuration(self) -> dict[str, Any] | None:
        """CreateChangeSet's RollbackConfiguration; None: leave it out (the stack keeps what it has)."""
        if self.triggers:
            return {"RollbackTriggers": [{"Arn": t.arn, "Type": t.type} for t in self.triggers],
                    "MonitoringTimeInMinutes": self.minutes}
        if self.clears:
            return {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
        return None

    def window(self) -> str:
        """How long CloudFormation watches after the last resource, in words (the local shortening said)."""
        text = f"{self.minutes} min"
        if self.target_kind == "local" and self.minutes != self.spec_minutes:
            text += f" (the spec's {self.spec_minutes} min shortened on the local target to keep local deploys fast"
            if self.time_scale != 1.0:
                text += f"; at the local AWS's time scale {self.time_scale:g} that is {self.seconds():g} s"
            text += ")"
        return text

    def seconds(self) -> float:
        return self.minutes * 60 * (self.time_scale if self.target_kind == "local" else 1.0)

    def lines(self, env: str) -> list[str]:
        """What the review says about the guard (text)."""
        out = []
        if self.triggers:
            names = ", ".join(t.name for t in self.triggers)
            out.append(f"GUARDED by rollback trigger(s) {names}: CloudFormation rolls this change set back if "
                       f"{'it goes' if len(self.triggers) == 1 else 'one goes'} to ALARM while it runs or in the "
                       f"{self.window()} after its last resource")
        if self.alarming:
            out.append(f"WARNING: {', '.join(self.alarming)} is in ALARM now: CloudFormation rolls this change set back "
                       "as soon as it runs; find out why (its alarm history, the dashboard) before deploying")
        if self.missing:
            names = ", ".join(self.missing)
            lead = "UNGUARDED: no rollback trigger" if not self.triggers else "not guarding"
            out.append(f"{lead}: the alarm {names} does not exist yet (this change set creates it, and CloudFormation "
                       f"fails an operation whose trigger alarm is missing); the next change set of {env} is guarded by it")
        if self.clears:
            why = "their alarms do not exist" if self.missing else f"{env}'s alarms are off (alarms.enabled: false)"
            out.append(f"rollback triggers cleared: the stack's trigger(s) {', '.join(self.clears)} are taken off "
                       f"(an empty RollbackTriggers list), as {why}: left on, they would fail the next operation")
        if not out:
            out.append(f"unguarded: {env} has no alarms (alarms.enabled is false), so no rollback trigger watches "
                       "this deploy")
        return out

    def to_json(self) -> dict[str, Any]:
        return {"guarded": bool(self.triggers), "triggers": [t.__dict__ for t in self.triggers],
                "missing": list(self.missing), "monitoring_minutes": self.minutes,
                "spec_monitoring_minutes": self.spec_minutes, "monitoring_seconds": self.seconds(),
                "clears": list(self.clears), "in_alarm": list(self.alarming), "configuration": self.configuration()}


def current_triggers(stack: dict[str, Any] | None) -> list[str]:
    """The trigger ARNs a described stack has now."""
    return [t.get("Arn", "") for t in ((stack or {}).get("RollbackConfiguration") or {}).get("RollbackTriggers") or []]


def partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def _existing(session: aws.Session, settings: StackSettings, wanted: list[Any],
              stack: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    """The wanted alarms that exist (aws.alarms). Credentials that may not call DescribeAlarms fall back on the
    stack: an alarm resource it holds exists, with the ARN its fixed name gives."""
    import botocore.exceptions as bx

    try:
        return aws.alarms(session, [t.name for t in wanted])
    except bx.ClientError as exc:
        if aws.error_code(exc) not in aws.DENIED or not wanted:
            raise
    if stack is None:
        return {}  # a first create: its alarms do not exist yet, so nothing guards it either way
    held = {r.get("LogicalResourceId") for r in session.client("cloudformation").describe_stack_resources(
        StackName=stack["StackId"])["StackResources"] if r.get("ResourceStatus", "").endswith("_COMPLETE")}
    account = stack["StackId"].split(":")[4]
    return {t.name: {"arn": t.arn(partition(settings.region), settings.region, account), "type": t.type,
                     "state": "unknown (cloudwatch:DescribeAlarms denied)", "reason": ""}
            for t in wanted if t.logical_id in held}


def decide(session: aws.Session, settings: StackSettings, stack: dict[str, Any] | None,
           time_scale: float = 1.0) -> Guard:
    """The guard of the next change set: the spec's triggers that exist (DescribeAlarms), at most five."""
    wanted = list(settings.rollback_triggers)[:MAX_TRIGGERS]
    found = _existing(session, settings, wanted, stack)
    triggers = tuple(Trigger(t.name, found[t.name]["arn"], found[t.name]["type"]) for t in wanted if t.name in found)
    missing = tuple(t.name for t in wanted if t.name not in found)
    minutes = settings.monitoring_minutes
    if session.target.kind == "local":
        minutes = min(minutes, LOCAL_MONITORING_MINUTES)
    kept = {t.arn for t in triggers}
    clears = tuple(a for a in current_triggers(stack) if a not in kept) if not triggers else ()
    alarming = tuple(t.name for t in triggers if found[t.name]["state"] == "ALARM")
    return Guard(triggers, missing, minutes, settings.monitoring_minutes, session.target.kind, clears, time_scale,
                 alarming)
