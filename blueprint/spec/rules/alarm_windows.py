"""An alarm can fire in the windows it is given: M of N periods, and within the rollback trigger's watch.

CloudWatch refuses DatapointsToAlarm above EvaluationPeriods only when the stack is deployed. And a
monitoring period shorter than the time the health alarm needs to go to ALARM (a period times
datapoints_to_alarm) ends before a regression can trip it: the deploy would look guarded and
roll nothing back. 0 minutes is allowed: CloudFormation then watches only while the deploy runs.
"""
from __future__ import annotations

from typing import Any, Iterator

from blueprint.spec.model import alarms_enabled

SECTIONS = ("alarms",)


def check(d: dict[str, Any]) -> Iterator[tuple[tuple, str]]:
    alarms = d["alarms"]
    evaluation = alarms["evaluation"]
    m, n, period = evaluation["datapoints_to_alarm"], evaluation["evaluation_periods"], evaluation["period_seconds"]
    if m > n:
        yield ("alarms", "evaluation", "datapoints_to_alarm"), (
            f"{m} is more than evaluation_periods {n} (allowed: 1 to {n}: M of the N periods looked at)")
    minutes = alarms["monitoring_minutes"]
    needed = -(-period * min(m, n) // 60)
    if alarms_enabled(d) and 0 < minutes < needed:
        yield ("alarms", "monitoring_minutes"), (
            f"{minutes} min is shorter than the {needed} min the health alarm needs to go to ALARM "
            f"({min(m, n)} periods of {period} s) (allowed: 0, or {needed} to 180)")
