"""blueprint/local/patches/cloudwatch.py: an SRE's alarms (metric, p99, metric math, composite) and dashboards deploy
through a change set on the local AWS and read back through CloudWatch's API; a composite alarm follows its
rule; plain moto still skips both alarm types and has no PutCompositeAlarm."""
from __future__ import annotations

import json

import botocore.exceptions
import pytest

from blueprint.local.patches.cloudwatch import children, evaluate

import stack as S

REGION = "us-west-1"  # this file's stacks, apart from the rendered stack's regions
TAGS = [{"Key": "Environment", "Value": "development"}, {"Key": "Service", "Value": "items"}]
KEY_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
     "Action": "kms:*", "Resource": "*"},
    {"Sid": "cloudwatch", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]}


def _stat(metric_id: str, name: str) -> dict:
    return {"Id": metric_id, "ReturnData": False, "MetricStat": {
        "Metric": {"Namespace": "AWS/Lambda", "MetricName": name,
                   "Dimensions": [{"Name": "FunctionName", "Value": "items-dev-api"}]},
        "Period": 60, "Stat": "Sum"}}


def alarms_template(prefix: str) -> dict:
    """The alarms an SRE adds to the items stack: error rate (metric math), p99 latency, throttles (a
    generated name), a composite of the first two as the one rollback trigger, an encrypted topic, dashboards."""
    topic = [{"Ref": "Topic"}]
    return {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": KEY_POLICY}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{prefix}-alarms", "KmsMasterKeyId": {"Ref": "Key"}}},
        "ErrorRate": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": f"{prefix}-error-rate", "AlarmDescription": "More than 5 % of invocations fail",
            "Metrics": [_stat("errors", "Errors"), _stat("invocations", "Invocations"),
                        {"Id": "rate", "Expression": "IF(invocations > 0, 100 * errors / invocations, 0)",
                         "Label": "error rate", "ReturnData": True}],
            "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching", "AlarmActions": topic, "OKActions": topic, "Tags": TAGS}},
        "Latency": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": f"{prefix}-latency-p99", "Namespace": "AWS/ApiGateway", "MetricName": "Latency",
            "ExtendedStatistic": "p99", "Dimensions": [{"Name": "ApiName", "Value": "items-dev"}, {"Name": "Stage", "Value": "v1"}],
            "Period": 60, "EvaluationPeriods": 5, "Threshold": 8000, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching", "AlarmActions": topic}},
        "Throttles": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "Namespace": "AWS/Lambda", "MetricName": "Throttles", "Statistic": "Sum", "Period": 60,
            "EvaluationPeriods": 5, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold", "ActionsEnabled": False,
            "Dimensions": [{"Name": "FunctionName", "Value": "items-dev-api"}]}},
        "Health": {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {
            "AlarmName": f"{prefix}-health", "AlarmRule": {"Fn::Sub": "ALARM(${ErrorRate}) OR ALARM(\"${Latency}\")"},
            "AlarmDescription": "The deploy's rollback trigger", "AlarmActions": topic, "ActionsEnabled": True}},
        "Dashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": f"{prefix}-overview", "DashboardBody": {"Fn::Sub": json.dumps({"widgets": [{
                "type": "alarm", "properties": {"title": "health", "alarms": ["${Health.Arn}"]}}, {
                "type": "metric", "properties": {"region": "${AWS::Region}", "metrics": [
                    ["AWS/Lambda", "Errors", "FunctionName", "items-dev-api"]]}}]})}}},
        "PlainDashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": f"{prefix}-plain", "DashboardBody": json.dumps({"widgets": []})}},
    }, "Outputs": {"HealthArn": {"Value": {"Fn::GetAtt": ["Health", "Arn"]}},
                   "ErrorRateArn": {"Value": {"Fn::GetAtt": ["ErrorRate", "Arn"]}},
                   "ThrottlesName": {"Value": {"Ref": "Throttles"}}}}


@pytest.fixture(scope="module")
def alarms(client):
    cfn = client("cloudformation", REGION)
    template = alarms_template("alarms")
    S.deploy(cfn, "alarms", template)
    return {"template": template, "ids": S.physical_ids(cfn, "alarms"), "outputs": S.outputs(cfn, "alarms")}


def _alarm(cw, name: str, kind: str = "MetricAlarm") -> dict:
    [found] = cw.describe_alarms(AlarmNames=[name], AlarmTypes=[kind])[f"{kind}s"]
    return found


# ---- cloudwatch_alarm_resource_types

def test_metric_alarms_deploy_with_their_properties(client, alarms):
    cw = client("cloudwatch", REGION)
    ids, outputs = alarms["ids"], alarms["outputs"]
    assert ids["ErrorRate"] == "alarms-error-rate" and ids["Latency"] == "alarms-latency-p99"  # Ref: the name
    topic = ids["Topic"]
    rate = _alarm(cw, "alarms-error-rate")
    assert outputs["ErrorRateArn"] == rate["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:alarms-error-rate"
    assert (rate["EvaluationPeriods"], rate["DatapointsToAlarm"], rate["Threshold"]) == (3, 2, 5.0)
    assert (rate["ComparisonOperator"], rate["TreatMissingData"]) == ("GreaterThanThreshold", "notBreaching")
    assert rate["AlarmActions"] == rate["OKActions"] == [topic]
    assert rate["AlarmDescription"] == "More than 5 % of invocations fail"
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    assert metrics["rate"]["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
    assert metrics["rate"]["ReturnData"] is True and metrics["errors"]["ReturnData"] is False
    assert metrics["errors"]["MetricStat"]["Metric"]["MetricName"] == "Errors"
    assert metrics["errors"]["MetricStat"]["Stat"] == "Sum"
    assert cw.list_tags_for_resource(ResourceARN=rate["AlarmArn"])["Tags"] == TAGS
    latency = _alarm(cw, "alarms-latency-p99")
    assert latency["ExtendedStatistic"] == "p99" and "Statistic" not in latency
    assert latency["Dimensions"] == [{"Name": "ApiName", "Value": "items-dev"}, {"Name": "Stage", "Value": "v1"}]
    assert (latency["Namespace"], latency["MetricName"], latency["Period"]) == ("AWS/ApiGateway", "Latency", 60)
    throttles = _alarm(cw, outputs["ThrottlesName"])
    assert outputs["ThrottlesName"].startswith("alarms-Throttles-")  # generated, as CloudFormation names it
    assert throttles["ActionsEnabled"] is False and throttles["Statistic"] == "Sum"


def test_composite_alarm_deploys_with_its_rule(client, alarms):
    composite = _alarm(client("cloudwatch", REGION), "alarms-health", "CompositeAlarm")
    assert composite["AlarmRule"] == 'ALARM(alarms-error-rate) OR ALARM("alarms-latency-p99")'
    assert composite["AlarmArn"] == alarms["outputs"]["HealthArn"]
    assert composite["AlarmActions"] == [alarms["ids"]["Topic"]] and composite["ActionsEnabled"] is True
    assert composite["StateValue"] == "OK"  # its children are OK


def test_alarm_update_is_in_place_and_keeps_its_state_a_new_name_replaces_it(client):
    cfn, cw = client("cloudformation", REGION), client("cloudwatch", REGION)
    template = alarms_template("update")
    S.deploy(cfn, "alarms-update", template)
    cw.set_alarm_state(AlarmName="update-latency-p99", StateValue="ALARM", StateReason="slow")
    template["Resources"]["Latency"]["Properties"]["Threshold"] = 5000
    template["Resources"]["ErrorRate"]["Properties"]["AlarmName"] = "update-error-rate-v2"
    S.deploy(cfn, "alarms-update", template)
    latency = _alarm(cw, "update-latency-p99")
    assert (latency["Threshold"], latency["StateValue"], latency["StateReason"]) == (5000.0, "ALARM", "slow")
    names = {a["AlarmName"] for a in cw.describe_alarms(AlarmNamePrefix="update-error-rate")["MetricAlarms"]}
    assert names == {"update-error-rate-v2"}
    cfn.delete_stack(StackName="alarms-update")
    cfn.get_waiter("stack_delete_complete").wait(StackName="alarms-update", WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    left = cw.describe_alarms(AlarmNamePrefix="update-", AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    assert left["MetricAlarms"] == left["CompositeAlarms"] == []


def test_canary_alarm_types_are_skipped(plain):
    cfn = plain("cloudformation")
    template = alarms_template("canary")
    for name in ("Dashboard", "Health", "Key"):
        del template["Resources"][name]
    template["Resources"]["Topic"]["Properties"].pop("KmsMasterKeyId")
    template["Outputs"] = {}
    cfn.create_stack(StackName="canary", TemplateBody=S.body(template))
    S.still_broken(not plain("cloudwatch").describe_alarms()["MetricAlarms"],
                   "creates AWS::CloudWatch::Alarm from CloudFormation", "cloudwatch_alarm_resource_types")


# ---- cloudwatch_composite_alarms

def _metric_alarm(cw, name: str) -> None:
    cw.put_metric_alarm(AlarmName=name, Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")


def test_composite_alarm_follows_its_children(client):
    cw = client("cloudwatch", "us-west-2")
    for name in ("errors", "latency", "parent-of-health"):
        _metric_alarm(cw, name)
    arn = f"arn:aws:cloudwatch:us-west-2:123456789012:alarm:latency"
    cw.put_composite_alarm(AlarmName="health", AlarmRule=f'ALARM(errors) OR ALARM("{arn}")', AlarmActions=[])
    cw.put_composite_alarm(AlarmName="page", AlarmRule="ALARM(health) AND NOT ALARM(maintenance)")
    state = lambda name: _alarm(cw, name, "CompositeAlarm")["StateValue"]  # noqa: E731
    assert (state("health"), state("page")) == ("OK", "OK")
    cw.set_alarm_state(AlarmName="latency", StateValue="ALARM", StateReason="p99 above 8 s")
    assert (state("health"), state("page")) == ("ALARM", "ALARM")  # a parent of a parent follows too
    health = _alarm(cw, "health", "CompositeAlarm")
    assert health["StateReason"].startswith(f"{arn} transitioned to ALARM at ")
    assert json.loads(health["StateReasonData"])["triggeringAlarms"][0]["arn"] == arn
    cw.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="x")
    cw.set_alarm_state(AlarmName="latency", StateValue="OK", StateReason="fast again")
    assert state("health") == "ALARM"  # errors still in ALARM
    cw.set_alarm_state(AlarmName="errors", StateValue="OK", StateReason="y")
    assert (state("health"), state("page")) == ("OK", "OK")


def test_set_alarm_state_sets_a_composite_alarm(client, alarms):
    cw = client("cloudwatch", REGION)
    cw.set_alarm_state(AlarmName="alarms-health", StateValue="ALARM", StateReason="testing the rollback trigger")
    composite = _alarm(cw, "alarms-health", "CompositeAlarm")
    assert (composite["StateValue"], composite["StateReason"]) == ("ALARM", "testing the rollback trigger")
    cw.set_alarm_state(AlarmName="alarms-health", StateValue="OK", StateReason="done")


def test_describe_alarms_returns_composite_alarms_only_when_asked(client, alarms):
    cw = client("cloudwatch", REGION)
    default = cw.describe_alarms(AlarmNamePrefix="alarms-")
    assert default["CompositeAlarms"] == [] and len(default["MetricAlarms"]) == 3
    both = cw.describe_alarms(AlarmNamePrefix="alarms-", AlarmTypes=["CompositeAlarm", "MetricAlarm"])
    assert [a["AlarmName"] for a in both["CompositeAlarms"]] == ["alarms-health"]
    assert cw.describe_alarms(AlarmNamePrefix="alarms-", AlarmTypes=["CompositeAlarm"])["MetricAlarms"] == []


def test_a_rule_that_does_not_parse_is_refused(client):
    cw = client("cloudwatch", "us-west-2")
    with pytest.raises(botocore.exceptions.ClientError, match="AlarmRule"):
        cw.put_composite_alarm(AlarmName="broken", AlarmRule="ALARM(a) OR")


def test_rules_evaluate_as_cloudwatch_reads_them():
    states = {"a": "ALARM", "b": "OK", "c d": "INSUFFICIENT_DATA"}
    assert evaluate("ALARM(a) AND OK(b)", states) and not evaluate("ALARM(a) AND NOT OK(b)", states)
    assert evaluate('INSUFFICIENT_DATA("c d")', states) and not evaluate("ALARM(missing)", states)
    assert evaluate("ALARM(b) OR ALARM(a) AND TRUE", states)  # AND binds tighter than OR
    assert not evaluate("(ALARM(b) OR ALARM(a)) AND FALSE", states)
    assert evaluate("ALARM(arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a)", states)
    assert children('ALARM(a) OR OK("c d") AND NOT ALARM(arn:aws:cloudwatch:eu-west-1:1:alarm:e)') == {"a", "c d", "e"}


def test_canary_no_composite_alarms(plain):
    cw = plain("cloudwatch")
    try:
        cw.put_composite_alarm(AlarmName="health", AlarmRule="ALARM(a)")
        made = True
    except Exception:  # noqa: BLE001 - moto raises NotImplementedError
        made = False
    S.still_broken(not made, "implements PutCompositeAlarm", "cloudwatch_composite_alarms")


# ---- dashboards: moto's own model, nothing to patch

def test_dashboards_deploy_from_a_string_and_a_sub(client, alarms):
    cw = client("cloudwatch", REGION)
    body = json.loads(cw.get_dashboard(DashboardName="alarms-overview")["DashboardBody"])
    assert body["widgets"][0]["properties"]["alarms"] == [alarms["outputs"]["HealthArn"]]
    assert body["widgets"][1]["properties"]["region"] == REGION
    assert json.loads(cw.get_dashboard(DashboardName="alarms-plain")["DashboardBody"]) == {"widgets": []}
    assert alarms["ids"]["Dashboard"] == "alarms-overview"
