"""Rollback triggers: the RollbackConfiguration a change set brings, what the stack keeps of it, and the state of
each trigger's CloudWatch alarm, read from moto's CloudWatch backend in this same process.

What the stack keeps follows CloudFormation's rule for RollbackTriggers: not given, the stack's previous
triggers stay; given, they replace them; an empty list clears them. MonitoringTimeInMinutes defaults to 0.
"""
from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import ValidationError

TRIGGER_TYPES = ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm")
MAX_TRIGGERS = 5
MAX_MONITORING_MINUTES = 180


def from_request(value: Any) -> dict[str, Any] | None:
    """CreateChangeSet's RollbackConfiguration as the change set keeps it (None: not given); a ValidationError
    for what AWS refuses (more than 5 triggers, a type that is not an alarm, minutes outside 0..180)."""
    if value in (None, ""):
        return None
    if not isinstance(value, dict):
        raise ValidationError(message="RollbackConfiguration must be a structure")
    config: dict[str, Any] = {}
    if "RollbackTriggers" in value:
        # The query protocol sends an empty list as an empty string.
        triggers = value["RollbackTriggers"] or []
        if len(triggers) > MAX_TRIGGERS:
            raise ValidationError(message="1 validation error detected: Value at 'rollbackConfiguration."
                                          "rollbackTriggers' failed to satisfy constraint: Member must have length "
                                          f"less than or equal to {MAX_TRIGGERS}")
        for trigger in triggers:
            if trigger.get("Type") not in TRIGGER_TYPES:
                raise ValidationError(message=f"Rollback trigger {trigger.get('Arn')} has type "
                                              f"{trigger.get('Type')!r}: the type must be one of {', '.join(TRIGGER_TYPES)}")
        config["RollbackTriggers"] = [{"Arn": t.get("Arn"), "Type": t.get("Type")} for t in triggers]
    minutes = int(value.get("MonitoringTimeInMinutes") or 0)
    if not 0 <= minutes <= MAX_MONITORING_MINUTES:
        raise ValidationError(message=f"1 validation error detected: Value '{minutes}' at "
                                      f"'rollbackConfiguration.monitoringTimeInMinutes' failed to satisfy constraint: "
                                      f"Member must have value between 0 and {MAX_MONITORING_MINUTES}")
    config["MonitoringTimeInMinutes"] = minutes
    return config


def applied(previous: dict[str, Any] | None, requested: dict[str, Any] | None) -> dict[str, Any]:
    """The stack's RollbackConfiguration after an operation that asked for `requested`."""
    previous = previous or {}
    if requested is None:
        return dict(previous)
    return {"RollbackTriggers": list(requested.get("RollbackTriggers", previous.get("RollbackTriggers", []))),
            "MonitoringTimeInMinutes": requested.get("MonitoringTimeInMinutes", 0)}


def arns(config: dict[str, Any] | None) -> list[str]:
    return [t["Arn"] for t in (config or {}).get("RollbackTriggers") or []]


def alarm_name(arn: str) -> str:
    return arn.split(":alarm:", 1)[-1]


def _alarm(arn: str) -> Any:
    """The moto alarm (metric or composite) an ARN arn:aws:cloudwatch:<region>:<account>:alarm:<name> names."""
    # Imported here, not at the top: importing the patches must change nothing in moto, and importing
    # moto.cloudwatch registers its backend.
    from moto.cloudwatch.models import cloudwatch_backends

    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[2] != "cloudwatch" or parts[5] != "alarm":
        return None
    try:
        return cloudwatch_backends[parts[4]][parts[3]].alarms.get(parts[6])
    except (KeyError, ValueError):  # an account or region moto does not know
        return None


def missing(config: dict[str, Any] | None) -> list[str]:
    """The triggers whose alarm does not exist."""
    return [arn for arn in arns(config) if _alarm(arn) is None]


def in_alarm(config: dict[str, Any] | None) -> str | None:
    """The first trigger whose alarm is in ALARM (INSUFFICIENT_DATA never triggers a rollback), else None."""
    for arn in arns(config):
        alarm = _alarm(arn)
        if alarm is not None and alarm.state_value == "ALARM":
            return arn
    return None
