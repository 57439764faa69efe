"""The alarms (spec: alarms): each threshold as every environment renders it, the topic and its key, the
subscriptions, the health alarm the change sets' rollback triggers name, the dashboard, and the switches."""
from __future__ import annotations

import copy
import dataclasses
import json
import re
from functools import cache

import pytest

from blueprint.cfn import loader
from blueprint.errors import UserError
from blueprint.render import settings as stack_settings
from blueprint.render.templates import render_environment
from blueprint.spec import load as spec
from blueprint.spec.model import Notify
from blueprint.spec.validate import load_valid
from tests.conftest import ROOT
from tests.render.test_real_account import project_lint
from tests.render.test_rendered_values import every_switch_on

ENVS = spec.environments(ROOT)
METRIC_ALARMS = {"FunctionErrorsAlarm", "FunctionThrottlesAlarm", "Api5xxAlarm", "ApiLatencyAlarm",
                 "FunctionConcurrencyAlarm", "TableThrottlesAlarm", "DlqMessagesAlarm"}
IN_HEALTH = ["FunctionErrorsAlarm", "FunctionThrottlesAlarm", "Api5xxAlarm", "ApiLatencyAlarm"]
ALARM_TYPES = {"AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::CloudWatch::Dashboard",
               "AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"}


@cache
def template(env: str) -> dict:
    return loader.loads((ROOT / "generated" / env / "template.yaml").read_text())


@cache
def the_spec(env: str):
    return load_valid(ROOT, [env])[0]


def props(t: dict, lid: str) -> dict:
    return t["Resources"][lid]["Properties"]


def of_type(t: dict, kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in t["Resources"].items() if r["Type"] == kind}


def with_alarms(s, **changes):
    return dataclasses.replace(s, alarms=dataclasses.replace(s.alarms, **changes))


@pytest.fixture(params=ENVS)
def env(request):
    return request.param


@pytest.fixture(params=[e for e in ENVS if load_valid(ROOT, [e])[0].alarms.enabled])
def alarmed(request):
    return request.param


def test_alarms_are_on_where_production_is_and_where_the_spec_says():
    assert {e: the_spec(e).alarms.enabled for e in ENVS} == {"dev": False, "prod": True, "staging": True}
    assert "enabled" not in spec.load(ROOT, "prod").data["alarms"]  # prod's comes from its tag


def test_left_out_enabled_follows_the_environment_tag(project):
    (project / "envs/dev.yaml").write_text("environment_tag: production\nprotected: true\n"
                                           "table:\n  deletion_protection: true\n  retain_on_delete: true\n")
    assert load_valid(project, ["dev"])[0].alarms.enabled is True
    (project / "envs/dev.yaml").write_text("environment_tag: production\nprotected: true\n"
                                           "table:\n  deletion_protection: true\n  retain_on_delete: true\n"
                                           "alarms:\n  enabled: false\n")
    assert load_valid(project, ["dev"])[0].alarms.enabled is False  # a production environment may say no


# --- each threshold, as each environment renders it -------------------------------------------------

class TestThresholds:
    def test_every_metric_alarm_with_its_threshold_and_window(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        th, ev = s.alarms.thresholds, s.alarms.evaluation
        alarms = of_type(t, "AWS::CloudWatch::Alarm")
        assert set(alarms) == METRIC_ALARMS
        expected = {
            "FunctionErrorsAlarm": ("GreaterThanThreshold", th.function_errors_percent),
            "FunctionThrottlesAlarm": ("GreaterThanThreshold", th.function_throttles),
            "Api5xxAlarm": ("GreaterThanThreshold", th.api_5xx_rate),
            "ApiLatencyAlarm": ("GreaterThanThreshold", th.api_latency_p99_ms),
            "FunctionConcurrencyAlarm": ("GreaterThanOrEqualToThreshold", s.function.reserved_concurrency * th.concurrency_percent / 100),
            "TableThrottlesAlarm": ("GreaterThanThreshold", th.table_throttles),
            "DlqMessagesAlarm": ("GreaterThanThreshold", 0),
        }
        for lid, (operator, threshold) in expected.items():
            p = alarms[lid]["Properties"]
            assert (p["ComparisonOperator"], p["Threshold"]) == (operator, threshold), lid
            assert p["TreatMissingData"] == "notBreaching" and p["AlarmActions"] == [{"Ref": "AlarmTopic"}]
            assert p["AlarmName"] == f"{s.stack_name}-" + {
                "FunctionErrorsAlarm": "function-errors", "FunctionThrottlesAlarm": "function-throttles",
                "Api5xxAlarm": "api-5xx", "ApiLatencyAlarm": "api-latency-p99", "FunctionConcurrencyAlarm": "function-concurrency",
                "TableThrottlesAlarm": "table-throttles", "DlqMessagesAlarm": "dlq-messages"}[lid]
            window = (1, 1) if lid == "DlqMessagesAlarm" else (ev.evaluation_periods, ev.datapoints_to_alarm)
            assert (p["EvaluationPeriods"], p["DatapointsToAlarm"]) == window, lid
            periods = [m["MetricStat"]["Period"] for m in p.get("Metrics", []) if "MetricStat" in m] or [p["Period"]]
            assert set(periods) == {ev.period_seconds}, lid

    def test_the_production_thresholds_are_stricter(self):
        prod, staging = the_spec("prod").alarms.thresholds, the_spec("staging").alarms.thresholds
        assert (prod.function_errors_percent, prod.api_5xx_rate, prod.api_latency_p99_ms) == (1, 0.01, 1000)
        assert (staging.function_errors_percent, staging.api_5xx_rate, staging.api_latency_p99_ms) == (5, 0.05, 2000)
        assert props(template("prod"), "FunctionConcurrencyAlarm")["Threshold"] == 80  # 80 % of 100
        assert props(template("staging"), "FunctionConcurrencyAlarm")["Threshold"] == 4  # 80 % of 5

    def test_the_metrics_and_their_dimensions(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        api = [{"Name": "ApiName", "Value": s.stack_name}, {"Name": "Stage", "Value": s.api.stage}]
        assert props(t, "RestApi")["Name"] == s.stack_name  # the ApiName dimension is the API's name
        five = props(t, "Api5xxAlarm")
        assert (five["Namespace"], five["MetricName"], five["Statistic"], five["Dimensions"]) == ("AWS/ApiGateway", "5XXError", "Average", api)
        assert 0 <= five["Threshold"] <= 1  # the Average of 5XXError is a rate
        latency = props(t, "ApiLatencyAlarm")
        assert (latency["MetricName"], latency["ExtendedStatistic"], latency["Dimensions"]) == ("Latency", "p99", api)
        assert "Statistic" not in latency  # one or the other
        fn = [{"Name": "FunctionName", "Value": {"Ref": "Function"}}]
        assert (props(t, "FunctionThrottlesAlarm")["MetricName"], props(t, "FunctionThrottlesAlarm")["Dimensions"]) == ("Throttles", fn)
        conc = props(t, "FunctionConcurrencyAlarm")
        assert (conc["MetricName"], conc["Statistic"], conc["Dimensions"]) == ("ConcurrentExecutions", "Maximum", fn)
        dlq = props(t, "DlqMessagesAlarm")
        assert (dlq["Namespace"], dlq["MetricName"], dlq["Dimensions"]) == (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}])

    def test_the_metric_math_alarms(self, alarmed):
        t = template(alarmed)
        errors = {m["Id"]: m for m in props(t, "FunctionErrorsAlarm")["Metrics"]}
        assert [m["MetricStat"]["Metric"]["MetricName"] for m in errors.values() if "MetricStat" in m] == ["Errors", "Invocations"]
        assert errors["rate"]["Expression"] == "IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)"
        assert [m["Id"] for m in errors.values() if m["ReturnData"]] == ["rate"]
        table = {m["Id"]: m for m in props(t, "TableThrottlesAlarm")["Metrics"]}
        assert {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"]["Dimensions"] for m in table.values() if "MetricStat" in m} == {
            "ReadThrottleEvents": [{"Name": "TableName", "Value": {"Ref": "Table"}}],
            "WriteThrottleEvents": [{"Name": "TableName", "Value": {"Ref": "Table"}}]}
        assert table["throttled"]["Expression"] == "FILL(reads, 0) + FILL(writes, 0)"
        for lid in ("FunctionErrorsAlarm", "TableThrottlesAlarm"):  # a math alarm names no metric itself
            assert not {"Namespace", "MetricName", "Statistic", "ExtendedStatistic", "Period"} & set(props(t, lid))

    @pytest.mark.parametrize("reserved, percent, expected", [(5, 80, 4), (100, 80, 80), (1, 80, 0.8), (3, 50, 1.5), (7, 100, 7)])
    def test_the_concurrency_threshold_is_a_share_of_the_reservation(self, reserved, percent, expected):
        s = every_switch_on()
        s = dataclasses.replace(s, function=dataclasses.replace(s.function, reserved_concurrency=reserved))
        s = with_alarms(s, thresholds=dataclasses.replace(s.alarms.thresholds, concurrency_percent=percent))
        found = props(loader.loads(render_environment(s)), "FunctionConcurrencyAlarm")["Threshold"]
        assert found == expected and type(found) is type(expected)

    def test_fractional_thresholds_are_written_as_numbers(self):
        s = every_switch_on()
        s = with_alarms(s, thresholds=dataclasses.replace(s.alarms.thresholds, api_5xx_rate=0.0005, function_errors_percent=0.25))
        t = loader.loads(render_environment(s))
        assert props(t, "Api5xxAlarm")["Threshold"] == 0.0005 and props(t, "FunctionErrorsAlarm")["Threshold"] == 0.25


# --- the health alarm: the rollback trigger -------------------------------------------------------------

class TestHealth:
    def test_the_composite_covers_what_a_deploy_breaks(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        (lid,) = of_type(t, "AWS::CloudWatch::CompositeAlarm")
        assert lid == "HealthAlarm"
        p = props(t, "HealthAlarm")
        assert p["AlarmName"] == f"{s.stack_name}-health"
        rule = p["AlarmRule"]["Fn::Sub"]
        assert re.findall(r'ALARM\("\$\{(\w+)\}"\)', rule) == IN_HEALTH  # by Ref: the children exist first
        assert rule == " OR ".join(f'ALARM("${{{c}}}")' for c in IN_HEALTH)
        assert len(rule) <= 10240
        assert p["AlarmActions"] == p["OKActions"] == [{"Ref": "AlarmTopic"}] and p["ActionsEnabled"] is True

    def test_stack_json_names_the_trigger_and_the_watch(self, env):
        data = json.loads((ROOT / "generated" / env / "stack.json").read_text())
        s = the_spec(env)
        expected = [{"logical_id": "HealthAlarm", "name": f"{s.stack_name}-health", "type": "AWS::CloudWatch::CompositeAlarm"}]
        assert data["alarms"] == {"enabled": s.alarms.enabled, "monitoring_minutes": s.alarms.monitoring_minutes,
                                  "rollback_triggers": expected if s.alarms.enabled else []}
        if s.alarms.enabled:
            assert template(env)["Resources"]["HealthAlarm"]["Properties"]["AlarmName"] == expected[0]["name"]
            assert template(env)["Resources"]["HealthAlarm"]["Type"] == expected[0]["type"]
        assert (env, data["alarms"]["monitoring_minutes"]) != ("prod", 0)
        if env == "prod":
            assert data["alarms"]["monitoring_minutes"] == 10

    def test_the_settings_read_back_and_give_the_triggers_arn(self):
        settings = stack_settings.read(ROOT, "prod")
        (trigger,) = settings.rollback_triggers
        assert trigger.arn("aws", "us-east-1", "123456789012") == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:items-prod-health"
        assert (settings.alarms_enabled, settings.monitoring_minutes) == (True, 10)
        assert stack_settings.StackSettings.from_json(settings.to_json(), "x") == settings

    def test_a_stack_json_from_before_the_alarms_reads_as_none(self):
        data = json.loads((ROOT / "generated" / "prod" / "stack.json").read_text())
        del data["alarms"]
        old = stack_settings.StackSettings.from_json(json.dumps(data), "old")
        assert (old.alarms_enabled, old.rollback_triggers, old.monitoring_minutes) == (False, (), 0)

    @pytest.mark.parametrize("alarms", [{"enabled": "yes"}, {"monitoring_minutes": 181}, {"monitoring_minutes": True},
                                        {"rollback_triggers": [{"name": "x"}]}, {"rollback_triggers": "x"}])
    def test_a_malformed_alarms_entry_is_a_clear_error(self, alarms):
        data = json.loads((ROOT / "generated" / "prod" / "stack.json").read_text())
        data["alarms"].update(alarms)
        with pytest.raises(UserError, match="generated/prod/stack.json: .*run `make render`"):
            stack_settings.StackSettings.from_json(json.dumps(data), "generated/prod/stack.json")


# --- the topic, its key, its policy, the subscriptions ------------------------------------------------

class TestTopic:
    def test_the_topic_is_encrypted_with_the_environments_key_which_lets_cloudwatch_use_it(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        topic = props(t, "AlarmTopic")
        assert topic["TopicName"] == f"{s.stack_name}-alarms"
        assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}
        (st,) = [st for st in props(t, "KmsKey")["KeyPolicy"]["Statement"]
                 if st["Sid"] == "CloudWatchAlarmsEncryptTheirNotifications"]
        assert st == {"Sid": "CloudWatchAlarmsEncryptTheirNotifications", "Effect": "Allow",
                      "Principal": {"Service": "cloudwatch.amazonaws.com"},
                      "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}

    def test_without_alarms_the_key_grants_cloudwatch_nothing(self):
        statements = props(template("dev"), "KmsKey")["KeyPolicy"]["Statement"]
        assert not [st for st in statements if st.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]

    def test_the_topic_policy_admits_this_stacks_alarms_and_refuses_plain_http(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        p = props(t, "AlarmTopicPolicy")
        assert p["Topics"] == [{"Ref": "AlarmTopic"}]
        allow, deny = p["PolicyDocument"]["Statement"]
        assert (allow["Effect"], allow["Principal"], allow["Action"]) == ("Allow", {"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")
        assert allow["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnLike": {"aws:SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{s.stack_name}-*"}}}
        for lid in (*METRIC_ALARMS, "HealthAlarm"):  # the SourceArn pattern covers every alarm's name
            assert props(t, lid)["AlarmName"].startswith(f"{s.stack_name}-")
        assert (deny["Effect"], deny["Principal"], deny["Action"], deny["Condition"]) == (
            "Deny", "*", "sns:Publish", {"Bool": {"aws:SecureTransport": "false"}})

    def test_each_alarm_notifies_the_topic(self, alarmed):
        t = template(alarmed)
        for lid, r in t["Resources"].items():
            if r["Type"] in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm"):
                assert r["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], lid

    def test_the_subscriptions_are_the_specs(self, alarmed):
        t, s = template(alarmed), the_spec(alarmed)
        subs = [r["Properties"] for r in of_type(t, "AWS::SNS::Subscription").values()]
        expected = [("email", e) for e in s.alarms.notify.emails] + [("https", u) for u in s.alarms.notify.https]
        assert [(p["Protocol"], p["Endpoint"]) for p in subs] == expected
        assert all(p["TopicArn"] == {"Ref": "AlarmTopic"} for p in subs)
        if alarmed == "prod":
            assert expected == [("email", "platform-oncall@example.com")]

    def test_emails_and_https_endpoints_by_position(self):
        s = with_alarms(every_switch_on(), notify=Notify(("a@example.com", "b@example.org"), ("https://x.example.com/h?k=1",)))
        t = loader.loads(render_environment(s))
        assert {lid: (r["Properties"]["Protocol"], r["Properties"]["Endpoint"]) for lid, r in of_type(t, "AWS::SNS::Subscription").items()} == {
            "AlarmEmail1": ("email", "a@example.com"), "AlarmEmail2": ("email", "b@example.org"),
            "AlarmHttps1": ("https", "https://x.example.com/h?k=1")}

    def test_e9105_sees_a_key_or_a_topic_policy_that_keeps_cloudwatch_out(self):
        t = copy.deepcopy(template("prod"))
        key = props(t, "KmsKey")["KeyPolicy"]
        key["Statement"] = [st for st in key["Statement"] if st["Sid"] != "CloudWatchAlarmsEncryptTheirNotifications"]
        props(t, "AlarmTopicPolicy")["PolicyDocument"]["Statement"].pop(0)
        found = project_lint(t)
        assert len(found) == 2 and all(f.startswith("E9105 ") for f in found)
        assert any("KmsKey encrypts the alarm topic AlarmTopic but does not grant cloudwatch.amazonaws.com" in f for f in found)
        assert any("AlarmTopicPolicy replaces AlarmTopic's default policy" in f for f in found)
        t = copy.deepcopy(template("prod"))
        props(t, "AlarmTopic")["KmsMasterKeyId"] = "alias/aws/sns"
        assert [f[:5] for f in project_lint(t)] == ["E9105"]


# --- the dashboard -------------------------------------------------------------------------------------

def substituted(body: str) -> dict:
    """The dashboard body as CloudFormation's Fn::Sub makes it, with stand-in values; JSON or an error."""
    def value(m: re.Match) -> str:
        name = m.group(1)
        return {"AWS::Region": "us-east-1"}.get(name, f"arn:aws:cloudwatch:us-east-1:1:alarm:{name}" if name.endswith(".Arn") else f"the-{name}")
    text = re.sub(r"\$\{([A-Za-z0-9:.]+)\}", value, body)
    assert "${" not in text
    return json.loads(text)


class TestDashboard:
    def test_the_dashboard_where_the_spec_asks(self, env):
        t, s = template(env), the_spec(env)
        assert bool(of_type(t, "AWS::CloudWatch::Dashboard")) is s.alarms.dashboard
        assert {e: the_spec(e).alarms.dashboard for e in ENVS} == {"dev": False, "prod": True, "staging": False}

    def test_its_body_is_json_after_sub_with_the_golden_signals(self):
        t, s = template("prod"), the_spec("prod")
        p = props(t, "Dashboard")
        assert p["DashboardName"] == s.stack_name
        sub = p["DashboardBody"]["Fn::Sub"]
        names = set(re.findall(r"\$\{([A-Za-z0-9:.]+)\}", sub))
        assert names == {"AWS::Region", "Function", "Table", "DeadLetterQueue.QueueName",
                         *(f"{lid}.Arn" for lid in (*METRIC_ALARMS, "HealthAlarm"))}
        assert all(n.split(".")[0] in t["Resources"] or n.startswith("AWS::") for n in names)  # each resolves
        body = substituted(sub)
        titles = [w["properties"]["title"] for w in body["widgets"]]
        assert titles[0] == "Alarms" and len(body["widgets"][0]["properties"]["alarms"]) == 8
        for signal in ("Latency", "Traffic", "Errors", "Saturation", "Table", "Dead-letter queue"):
            assert any(title.startswith(signal) for title in titles), signal
        metrics = [w for w in body["widgets"] if w["type"] == "metric"]
        assert all(w["properties"]["region"] == "us-east-1" for w in metrics)
        latency = metrics[0]["properties"]
        assert [m[-1]["stat"] for m in latency["metrics"]] == ["p50", "p90", "p99", "p99"]
        assert latency["annotations"] == {"horizontal": [{"label": "p99 alarm", "value": s.alarms.thresholds.api_latency_p99_ms}]}
        for w in body["widgets"]:  # inside the 24-column grid, no two widgets overlapping
            assert 0 <= w["x"] and w["x"] + w["width"] <= 24
        cells = [(w["x"] + dx, w["y"] + dy) for w in body["widgets"] for dx in range(w["width"]) for dy in range(w["height"])]
        assert len(cells) == len(set(cells))

    def test_a_dashboard_without_alarms_has_no_alarm_widget_and_no_threshold_lines(self):
        s = with_alarms(the_spec("dev"), dashboard=True)
        t = loader.loads(render_environment(s))
        body = substituted(props(t, "Dashboard")["DashboardBody"]["Fn::Sub"])
        assert [w["type"] for w in body["widgets"]] == ["metric"] * 6
        assert not of_type(t, "AWS::CloudWatch::Alarm") and not of_type(t, "AWS::SNS::Topic")
        assert project_lint(t) == []


# --- switches off: nothing of it ------------------------------------------------------------------------

class TestSwitches:
    def test_alarms_and_dashboard_off_leave_no_alarm_resource_output_or_grant(self):
        s = with_alarms(every_switch_on(), enabled=False, dashboard=False)
        t = loader.loads(render_environment(s))
        assert not {r["Type"] for r in t["Resources"].values()} & ALARM_TYPES
        assert not {"HealthAlarmName", "HealthAlarmArn", "AlarmTopicArn"} & set(t["Outputs"])
        assert stack_settings.from_spec(s).rollback_triggers == ()

    def test_dev_has_none(self):
        assert not {r["Type"] for r in template("dev")["Resources"].values()} & ALARM_TYPES

    def test_outputs_name_the_health_alarm_and_the_topic(self, alarmed):
        outputs = template(alarmed)["Outputs"]
        assert outputs["HealthAlarmName"]["Value"] == {"Ref": "HealthAlarm"}
        assert outputs["HealthAlarmArn"]["Value"] == {"Fn::GetAtt": ["HealthAlarm", "Arn"]}
        assert outputs["AlarmTopicArn"]["Value"] == {"Ref": "AlarmTopic"}
