"""CloudWatch: models for AWS::CloudWatch::Alarm and CompositeAlarm, PutCompositeAlarm, and composite alarms' state.

The models call moto's CloudWatch backend (put_metric_alarm, which moto also uses for composite alarms:
an alarm with a rule), so what a stack creates reads back through describe_alarms. AWS::CloudWatch::Dashboard
needs nothing: moto's own model deploys a DashboardBody given as a string or a Fn::Sub.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch import models as cw
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult, EmptyResult

from blueprint.local.patches.base import Model, add_model, flag, ignore_gone, patch, wrap


def backend(account_id: str, region_name: str) -> cw.CloudWatchBackend:
    return cw.cloudwatch_backends[account_id][region_name]


# --------------------------------------------------------------------------- composite alarm rules

_TOKEN = re.compile(r'\s*(?:(?P<state>ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*(?P<name>"(?:[^"\\]|\\.)*"|[^()"]*?)\s*\)'
                    r"|(?P<word>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))")


def _alarm_name(reference: str) -> str:
    """An alarm named in a rule, by name or ARN (arn:...:cloudwatch:<region>:<account>:alarm:<name>)."""
    reference = reference.strip()
    if reference.startswith('"') and reference.endswith('"'):
        reference = reference[1:-1].replace('\\"', '"')
    return reference.split(":alarm:", 1)[1] if reference.startswith("arn:") and ":alarm:" in reference else reference


def parse_rule(rule: str) -> list[tuple[str, str]]:
    """An AlarmRule's tokens: ("state", "<STATE> <alarm name>"), ("word", AND/OR/NOT/TRUE/FALSE), ("paren", ...).
    Raises ValidationError for text that is none of these."""
    tokens, at = [], 0
    while rule[at:].strip():
        match = _TOKEN.match(rule, at)
        if not match:
            raise ValidationError(f"AlarmRule cannot be parsed at character {at + 1}: {rule[at:at + 30]!r}")
        if match["state"]:
            tokens.append(("state", f"{match['state']} {_alarm_name(match['name'])}"))
        else:
            tokens.append(("word", match["word"]) if match["word"] else ("paren", match["paren"]))
        at = match.end()
    return tokens


def children(rule: str) -> set[str]:
    """The names of the alarms a rule reads."""
    return {value.split(" ", 1)[1] for kind, value in parse_rule(rule) if kind == "state"}


def evaluate(rule: str, state_of: dict[str, str]) -> bool:
    """Whether the rule holds, given each alarm's state (an alarm that does not exist is in none).
    Precedence: NOT, then AND, then OR; parentheses group."""
    tokens = parse_rule(rule)
    at = 0

    def peek() -> tuple[str, str] | None:
        return tokens[at] if at < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal at
        if at >= len(tokens):
            raise ValidationError(f"AlarmRule ends too early: {rule!r}")
        at += 1
        return tokens[at - 1]

    def unary() -> bool:
        kind, value = take()
        if (kind, value) == ("word", "NOT"):
            return not unary()
        if (kind, value) == ("paren", "("):
            result = disjunction()
            if take() != ("paren", ")"):
                raise ValidationError(f"AlarmRule has an unclosed parenthesis: {rule!r}")
            return result
        if kind == "word" and value in ("TRUE", "FALSE"):
            return value == "TRUE"
        if kind == "state":
            state, name = value.split(" ", 1)
            return state_of.get(name) == state
        raise ValidationError(f"AlarmRule has {value!r} where a condition belongs: {rule!r}")

    def conjunction() -> bool:
        result = unary()
        while peek() == ("word", "AND"):
            take()
            result = unary() and result
        return result

    def disjunction() -> bool:
        result = conjunction()
        while peek() == ("word", "OR"):
            take()
            result = conjunction() or result
        return result

    result = disjunction()
    if at != len(tokens):
        raise ValidationError(f"AlarmRule has more after a complete condition: {rule!r}")
    return result


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def reevaluate(cloudwatch: cw.CloudWatchBackend, alarm: Any, trigger: Any | None) -> None:
    """Set a composite alarm's state from its rule, as CloudWatch does when a child changes state."""
    states = {name: a.state_value for name, a in cloudwatch.alarms.items()}
    value = "ALARM" if evaluate(alarm.rule, states) else "OK"
    if value == alarm.state_value and trigger is not None:
        return
    if trigger is None:
        reason = f"Alarm rule evaluated to {value}"
        data: dict[str, Any] = {"triggeringAlarms": []}
    else:
        now = datetime.now(timezone.utc)
        reason = f"{trigger.alarm_arn} transitioned to {trigger.state_value} at {now:%A %d %B, %Y %H:%M:%S} UTC"
        data = {"triggeringAlarms": [{"arn": trigger.alarm_arn,
                                      "state": {"value": trigger.state_value, "timestamp": _stamp(now)}}]}
    alarm.update_state(reason, json.dumps(data), value)


def propagate(cloudwatch: cw.CloudWatchBackend, changed: Any, seen: frozenset[str] = frozenset()) -> None:
    """Re-evaluate the composite alarms that read `changed`, and theirs in turn (a cycle stops once round)."""
    for parent in list(cloudwatch.alarms.values()):
        if parent.rule is not None and parent.name not in seen and changed.name in children(parent.rule):
            before = parent.state_value
            reevaluate(cloudwatch, parent, changed)
            if parent.state_value != before:
                propagate(cloudwatch, parent, seen | {changed.name})


# --------------------------------------------------------------------------- putting alarms

def _metric_queries(metrics: list[dict[str, Any]] | None) -> list[cw.MetricDataQuery] | None:
    """CloudFormation's (and the API's) Metrics, metric math included, as moto's query objects."""
    if not metrics:
        return None
    queries = []
    for m in metrics:
        stat = m.get("MetricStat")
        metric_stat = None
        if stat:
            metric = stat.get("Metric") or {}
            metric_stat = cw.MetricStat(
                metric=cw.Metric(metric_name=metric.get("MetricName"), namespace=metric.get("Namespace"),
                                 dimensions=[cw.Dimension(d.get("Name"), d.get("Value"))
                                             for d in metric.get("Dimensions") or []]),
                period=stat.get("Period"), stat=stat.get("Stat"), unit=stat.get("Unit"))
        return_data = m.get("ReturnData")
        queries.append(cw.MetricDataQuery(
            query_id=m.get("Id"), label=m.get("Label"), period=m.get("Period"),
            return_data=None if return_data is None else flag(return_data),
            expression=m.get("Expression"), metric_stat=metric_stat))
    return queries


def _number(value: Any, kind: type) -> Any:
    return None if value is None else kind(value)


def _keep_state(cloudwatch: cw.CloudWatchBackend, name: str) -> dict[str, Any]:
    """An existing alarm's state: updating an alarm leaves its state as it was (PutMetricAlarm's docs)."""
    old = cloudwatch.alarms.get(name)
    keys = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")
    return {k: getattr(old, k) for k in keys} if old is not None else {}


def put_metric_alarm(cloudwatch: cw.CloudWatchBackend, name: str, props: dict[str, Any]) -> Any:
    """A metric alarm from CloudFormation's properties (the same names as PutMetricAlarm's parameters)."""
    kept = _keep_state(cloudwatch, name)
    alarm = cloudwatch.put_metric_alarm(
        name=name, namespace=props.get("Namespace"), metric_name=props.get("MetricName"),
        metric_data_queries=_metric_queries(props.get("Metrics")),
        comparison_operator=props.get("ComparisonOperator"),
        evaluation_periods=_number(props.get("EvaluationPeriods"), int),
        datapoints_to_alarm=_number(props.get("DatapointsToAlarm"), int),
        period=_number(props.get("Period"), int), threshold=_number(props.get("Threshold"), float),
        statistic=props.get("Statistic"), extended_statistic=props.get("ExtendedStatistic"),
        description=props.get("AlarmDescription"), dimensions=props.get("Dimensions") or [],
        alarm_actions=list(props.get("AlarmActions") or []), ok_actions=list(props.get("OKActions") or []),
        insufficient_data_actions=list(props.get("InsufficientDataActions") or []), unit=props.get("Unit"),
        actions_enabled=flag(props.get("ActionsEnabled"), True), treat_missing_data=props.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=props.get("ThresholdMetricId"), tags=props.get("Tags") or None)
    vars(alarm).update(kept)
    return alarm


def put_composite_alarm(cloudwatch: cw.CloudWatchBackend, name: str, props: dict[str, Any]) -> Any:
    """A composite alarm (moto's alarm with a rule), its state evaluated from its rule at once."""
    rule = props.get("AlarmRule")
    if not rule:
        raise ValidationError("AlarmRule is required for a composite alarm")
    children(rule)  # a rule that does not parse is refused before anything changes
    kept = _keep_state(cloudwatch, name)
    alarm = cloudwatch.put_metric_alarm(
        name=name, namespace=None, metric_name=None, comparison_operator=None, evaluation_periods=None,
        period=None, threshold=None, statistic=None, description=props.get("AlarmDescription"), dimensions=[],
        alarm_actions=list(props.get("AlarmActions") or []), ok_actions=list(props.get("OKActions") or []),
        insufficient_data_actions=list(props.get("InsufficientDataActions") or []),
        actions_enabled=flag(props.get("ActionsEnabled"), True), rule=rule, tags=props.get("Tags") or None)
    vars(alarm).update(kept)
    alarm.alarm_rule = rule  # the name DescribeAlarms' CompositeAlarm shape reads
    reevaluate(cloudwatch, alarm, None)
    propagate(cloudwatch, alarm)
    return alarm


class Alarm(Model):
    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRS = ("Arn",)
    put = staticmethod(put_metric_alarm)

    def __init__(self, name: str, arn: str):
        self.physical_resource_id = self.name = name
        self.attr_Arn = arn

    @classmethod
    def create(cls, props, name, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        alarm = cls.put(backend(account_id, region_name), props.get("AlarmName") or name, props)
        return cls(alarm.name, alarm.alarm_arn)

    @classmethod
    def update(cls, original, props, name, account_id, region_name):  # type: ignore[no-untyped-def]
        """In place (the alarm keeps its state), unless AlarmName changes: then a new alarm replaces it."""
        if props.get("AlarmName", original.name) != original.name:
            return cls.replace(original, props, name, account_id, region_name)
        cls.put(backend(account_id, region_name), original.name, props)
        return original

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch = backend(account_id, region_name)
        cloudwatch.delete_alarms([self.name])
        ignore_gone(cloudwatch.tagger.delete_all_tags_for_resource, self.attr_Arn)


class CompositeAlarm(Alarm):
    TYPE = "AWS::CloudWatch::CompositeAlarm"
    put = staticmethod(put_composite_alarm)


@patch
def cloudwatch_alarm_resource_types() -> None:
    """moto 5.2.5 has no CloudFormation model for AWS::CloudWatch::Alarm or AWS::CloudWatch::CompositeAlarm
    (skipped with a warning). This patch installs both: they put the alarm into moto's CloudWatch backend
    (AlarmName or a generated <stack>-<LogicalId>-<suffix>, Description, MetricName, Namespace, Statistic or
    ExtendedStatistic, Dimensions, Period, EvaluationPeriods, DatapointsToAlarm, Threshold,
    ComparisonOperator, TreatMissingData, Metrics with metric math, Alarm/OK/InsufficientDataActions,
    ActionsEnabled, Tags; a composite's AlarmRule), Ref is the alarm name and GetAtt Arn its ARN; an update
    is made in place and keeps the alarm's state (a new AlarmName replaces it); delete removes it."""
    add_model(Alarm)
    add_model(CompositeAlarm)


def _put_composite_alarm(self):  # type: ignore[no-untyped-def]
    names = ("AlarmName", "AlarmRule", "AlarmDescription", "AlarmActions", "OKActions", "InsufficientDataActions",
             "ActionsEnabled", "Tags")
    props = {n: self._get_param(n) for n in names if self._get_param(n) is not None}
    put_composite_alarm(self.cloudwatch_backend, props["AlarmName"], props)
    return EmptyResult()


def _make_describe_alarms(original):  # type: ignore[no-untyped-def]
    def describe_alarms(self):  # type: ignore[no-untyped-def]
        answer = original(self)
        wanted = self._get_param("AlarmTypes") or ["MetricAlarm"]  # AWS: without AlarmTypes, metric alarms only
        result = answer.result
        return ActionResult({"MetricAlarms": result["MetricAlarms"] if "MetricAlarm" in wanted else [],
                             "CompositeAlarms": result["CompositeAlarms"] if "CompositeAlarm" in wanted else []})
    return describe_alarms


def _make_set_alarm_state(original):  # type: ignore[no-untyped-def]
    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):  # type: ignore[no-untyped-def]
        original(self, alarm_name, reason, reason_data, state_value)
        propagate(self, self.alarms[alarm_name])
    return set_alarm_state


@patch
def cloudwatch_composite_alarms() -> None:
    """moto 5.2.5 answers PutCompositeAlarm with NotImplementedError (HTTP 500), so there is no composite
    alarm to describe or to set the state of, and describe_alarms returns composite alarms even without
    AlarmTypes (AWS returns metric alarms only unless AlarmTypes asks for CompositeAlarm). This patch
    implements PutCompositeAlarm (AlarmRule parsed: ALARM/OK/INSUFFICIENT_DATA(name or ARN, quoted or
    not), TRUE, FALSE, NOT, AND, OR, parentheses), filters describe_alarms by AlarmTypes, lets
    set_alarm_state set a composite alarm, and re-evaluates every composite alarm whose rule reads an
    alarm whose state is set (ALARM when its rule holds, else OK), through parents of parents."""
    wrap(CloudWatchResponse, "put_composite_alarm", lambda _none: _put_composite_alarm)
    wrap(CloudWatchResponse, "describe_alarms", _make_describe_alarms)
    wrap(cw.CloudWatchBackend, "set_alarm_state", _make_set_alarm_state)
