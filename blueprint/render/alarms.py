"""What templates/alarms.yaml.j2 is given: the alarms' fixed names, their thresholds, the health rule, the dashboard.

Every alarm's name is `<service>-<env>-<signal>`, fixed by the spec and never generated: the
change-set step names the health alarm in its rollback trigger before the stack is read
(generated/<env>/stack.json), and the topic's policy lets CloudWatch publish for the alarms whose
ARN starts with `<service>-<env>-`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from blueprint.spec.model import Spec

HEALTH_ALARM = "HealthAlarm"  # logical id of the composite alarm; its name ends in `-health`
HEALTH_TYPE = "AWS::CloudWatch::CompositeAlarm"


@dataclass(frozen=True)
class AlarmName:
    """One alarm of the stack: its logical id, its physical name, whether the health alarm includes it."""

    logical_id: str
    name: str
    in_health: bool


# (logical id, the name's last part, in the health alarm). The health alarm takes what a bad deploy
# breaks for callers: errors, throttles, 5XX and latency. Capacity (concurrency, table throttling)
# and the dead-letter queue notify only: traffic growth is no reason to roll a deploy back, and a
# message stays in the queue until it is read, which would hold the health alarm in ALARM.
SIGNALS = (
    ("FunctionErrorsAlarm", "function-errors", True),
    ("FunctionThrottlesAlarm", "function-throttles", True),
    ("Api5xxAlarm", "api-5xx", True),
    ("ApiLatencyAlarm", "api-latency-p99", True),
    ("FunctionConcurrencyAlarm", "function-concurrency", False),
    ("TableThrottlesAlarm", "table-throttles", False),
    ("DlqMessagesAlarm", "dlq-messages", False),
)


def prefix(spec: Spec) -> str:
    return f"{spec.service}-{spec.env}"


def alarm_names(spec: Spec) -> dict[str, AlarmName]:
    """Every metric alarm by logical id, in the order the template has them."""
    return {lid: AlarmName(lid, f"{prefix(spec)}-{part}", health) for lid, part, health in SIGNALS}


def health_alarm_name(spec: Spec) -> str:
    """The composite health alarm's name: the rollback trigger of the environment's change sets."""
    return f"{prefix(spec)}-health"


def topic_name(spec: Spec) -> str:
    return f"{prefix(spec)}-alarms"


def health_rule(spec: Spec) -> str:
    """The composite's AlarmRule, for Fn::Sub: each child by `${LogicalId}` (its name), so CloudFormation
    creates the children first, as CloudWatch refuses a rule that names an alarm not there yet."""
    return " OR ".join(f'ALARM("${{{a.logical_id}}}")' for a in alarm_names(spec).values() if a.in_health)


def concurrency_threshold(spec: Spec) -> int | float:
    """concurrency_percent of the reserved concurrency, as an int when it is whole (5 x 80 % = 4)."""
    value = spec.function.reserved_concurrency * spec.alarms.thresholds.concurrency_percent / 100
    return int(value) if value.is_integer() else value


def subscriptions(spec: Spec) -> list[tuple[str, str, str]]:
    """(logical id, protocol, endpoint) of each subscription to the topic, by list position."""
    notify = spec.alarms.notify
    return ([(f"AlarmEmail{i}", "email", e) for i, e in enumerate(notify.emails, 1)]
            + [(f"AlarmHttps{i}", "https", u) for i, u in enumerate(notify.https, 1)])


def _metric(namespace: str, name: str, dimensions: list[tuple[str, str]], **options: Any) -> list[Any]:
    """One line of a dashboard widget's `metrics`: namespace, name, dimension pairs, then its options."""
    line: list[Any] = [namespace, name]
    for key, value in dimensions:
        line += [key, value]
    return line + ([options] if options else [])


def _widget(title: str, x: int, y: int, metrics: list[list[Any]], **properties: Any) -> dict[str, Any]:
    return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": {
        "title": title, "region": "${AWS::Region}", "view": "timeSeries", "stacked": False, "period": 60,
        "metrics": metrics, **properties}}


def dashboard_body(spec: Spec) -> str:
    """The dashboard's JSON, for Fn::Sub (`${AWS::Region}`, `${Function}`, ...): the golden signals.

    Latency, traffic, errors and saturation of the API, the function, the table and the queue; with
    the alarms on, their states on top and each alarm's threshold drawn on its graph.
    """
    api = [("ApiName", spec.stack_name), ("Stage", spec.api.stage)]
    fn, table = [("FunctionName", "${Function}")], [("TableName", "${Table}")]
    queue = [("QueueName", "${DeadLetterQueue.QueueName}")]
    on, th = spec.alarms.enabled, spec.alarms.thresholds

    def line(label: str, value: float) -> dict[str, Any]:
        return {"horizontal": [{"label": label, "value": value}]} if on else {}
    widgets: list[dict[str, Any]] = []
    top = 0
    if on:
        names = [*alarm_names(spec), HEALTH_ALARM]
        widgets.append({"type": "alarm", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {
            "title": "Alarms", "alarms": [f"${{{lid}.Arn}}" for lid in names]}})
        top = 3
    widgets += [
        _widget("Latency (ms): API p50, p90, p99; integration p99", 0, top, [
            _metric("AWS/ApiGateway", "Latency", api, stat="p50", label="p50"),
            _metric("AWS/ApiGateway", "Latency", api, stat="p90", label="p90"),
            _metric("AWS/ApiGateway", "Latency", api, stat="p99", label="p99"),
            _metric("AWS/ApiGateway", "IntegrationLatency", api, stat="p99", label="integration p99")],
            annotations=line("p99 alarm", th.api_latency_p99_ms)),
        _widget("Traffic: requests and invocations per minute", 12, top, [
            _metric("AWS/ApiGateway", "Count", api, stat="Sum", label="requests"),
            _metric("AWS/Lambda", "Invocations", fn, stat="Sum", label="invocations")]),
        _widget("Errors: 5XX rate (right), 4XX, 5XX and function errors", 0, top + 6, [
            _metric("AWS/ApiGateway", "5XXError", api, stat="Average", label="5XX rate", yAxis="right"),
            _metric("AWS/ApiGateway", "4XXError", api, stat="Sum", label="4XX"),
            _metric("AWS/ApiGateway", "5XXError", api, stat="Sum", label="5XX"),
            _metric("AWS/Lambda", "Errors", fn, stat="Sum", label="function errors")]),
        _widget("Saturation: concurrency of the reservation, throttles", 12, top + 6, [
            _metric("AWS/Lambda", "ConcurrentExecutions", fn, stat="Maximum", label="concurrent executions"),
            _metric("AWS/Lambda", "Throttles", fn, stat="Sum", label="throttles")],
            annotations={"horizontal": [{"label": "reserved", "value": spec.function.reserved_concurrency}]}),
        _widget("Table: consumed and provisioned capacity per second, throttled events", 0, top + 12, [
            [{"expression": "reads / PERIOD(reads)", "label": "read consumed", "id": "readrate"}],
            [{"expression": "writes / PERIOD(writes)", "label": "write consumed", "id": "writerate"}],
            _metric("AWS/DynamoDB", "ConsumedReadCapacityUnits", table, stat="Sum", id="reads", visible=False),
            _metric("AWS/DynamoDB", "ConsumedWriteCapacityUnits", table, stat="Sum", id="writes", visible=False),
            _metric("AWS/DynamoDB", "ProvisionedReadCapacityUnits", table, stat="Average", label="read provisioned"),
            _metric("AWS/DynamoDB", "ProvisionedWriteCapacityUnits", table, stat="Average", label="write provisioned"),
            _metric("AWS/DynamoDB", "ReadThrottleEvents", table, stat="Sum", label="read throttled", yAxis="right"),
            _metric("AWS/DynamoDB", "WriteThrottleEvents", table, stat="Sum", label="write throttled", yAxis="right")]),
        _widget("Dead-letter queue: failed asynchronous invocations waiting", 12, top + 12, [
            _metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue, stat="Maximum", label="messages")]),
    ]
    # One widget a line: a review's diff of the body then names the widget that changed.
    lines = [json.dumps(w, sort_keys=True, separators=(",", ":")) for w in widgets]
    return '{"widgets": [\n' + ",\n".join("  " + line for line in lines) + "\n]}\n"


def alarms_context(spec: Spec) -> dict[str, Any]:
    """What templates/alarms.yaml.j2 reads beside the spec."""
    return {
        "alarm": alarm_names(spec), "health_alarm_name": health_alarm_name(spec), "health_rule": health_rule(spec),
        "alarm_topic": topic_name(spec), "alarm_arn_prefix": f"{prefix(spec)}-",
        "concurrency_threshold": concurrency_threshold(spec), "subscriptions": subscriptions(spec),
        "dashboard_name": prefix(spec), "dashboard_body": dashboard_body(spec),
    }
