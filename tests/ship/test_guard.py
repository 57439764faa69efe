"""Which alarms guard a change set (blueprint.ship.guard) and the call that carries them: the configuration is
left out when no trigger alarm exists, an empty list is sent only to take off triggers that must go, and the
local target shortens the window."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from blueprint.render.settings import RollbackTrigger
from blueprint.ship import changeset, guard
from tests.ship.stubs import SETTINGS, stubbed

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:items-dev-health"
GUARDED = replace(SETTINGS, alarms_enabled=True, monitoring_minutes=10,
                  rollback_triggers=(RollbackTrigger("HealthAlarm", "items-dev-health",
                                                     "AWS::CloudWatch::CompositeAlarm"),))


def session_with(alarms: list[dict], kind: str = "aws"):
    cw, stub = stubbed("cloudwatch")
    stub.add_response("describe_alarms", {"CompositeAlarms": alarms, "MetricAlarms": []},
                      {"AlarmNames": ["items-dev-health"], "AlarmTypes": ["CompositeAlarm", "MetricAlarm"]})
    return SimpleNamespace(target=SimpleNamespace(kind=kind), client=lambda service: cw), stub


def test_an_existing_health_alarm_guards_the_change_set_for_the_specs_window():
    session, stub = session_with([{"AlarmName": "items-dev-health", "AlarmArn": ARN, "StateValue": "OK"}])
    decided = guard.decide(session, GUARDED, None)
    stub.assert_no_pending_responses()
    assert decided.configuration() == {"RollbackTriggers": [{"Arn": ARN, "Type": "AWS::CloudWatch::CompositeAlarm"}],
                                       "MonitoringTimeInMinutes": 10}
    [line] = decided.lines("dev")
    assert line.startswith("GUARDED by rollback trigger(s) items-dev-health") and "in the 10 min after" in line


def test_a_missing_alarm_leaves_the_configuration_out_and_the_review_says_unguarded():
    session, _ = session_with([])
    decided = guard.decide(session, GUARDED, {"StackName": "items-dev"})
    assert decided.configuration() is None  # never an empty list: it would clear the stack's triggers
    assert decided.lines("dev")[0].startswith("UNGUARDED: no rollback trigger: the alarm items-dev-health does not "
                                              "exist yet")
    assert decided.to_json()["guarded"] is False and decided.to_json()["missing"] == ["items-dev-health"]


def test_triggers_the_stack_has_but_the_spec_no_longer_wants_are_cleared_on_purpose():
    off = replace(SETTINGS, alarms_enabled=False)
    session = SimpleNamespace(target=SimpleNamespace(kind="aws"), client=None)  # no alarm to look for: no call
    stack = {"RollbackConfiguration": {"RollbackTriggers": [{"Arn": ARN, "Type": "AWS::CloudWatch::CompositeAlarm"}]}}
    decided = guard.decide(session, off, stack)
    assert decided.configuration() == {"RollbackTriggers": [], "MonitoringTimeInMinutes": 0}
    assert "alarms are off" in decided.lines("dev")[0]
    assert guard.decide(session, off, {"StackName": "items-dev"}).configuration() is None


def test_a_trigger_in_alarm_already_is_a_warning_in_the_review():
    session, _ = session_with([{"AlarmName": "items-dev-health", "AlarmArn": ARN, "StateValue": "ALARM"}])
    decided = guard.decide(session, GUARDED, None)
    assert decided.configuration() is not None  # still guarded: the warning is for the person deploying
    assert decided.lines("dev")[1].startswith("WARNING: items-dev-health is in ALARM now: CloudFormation rolls this "
                                              "change set back as soon as it runs")


def test_the_local_target_shortens_the_window_and_says_so():
    session, _ = session_with([{"AlarmName": "items-dev-health", "AlarmArn": ARN}], kind="local")
    decided = guard.decide(session, GUARDED, None, time_scale=0.05)
    assert decided.configuration()["MonitoringTimeInMinutes"] == guard.LOCAL_MONITORING_MINUTES
    assert "1 min (the spec's 10 min shortened on the local target" in decided.lines("dev")[0]
    assert "that is 3 s" in decided.lines("dev")[0]


def test_create_change_set_carries_the_configuration_only_when_given():
    cfn, stub = stubbed()
    prepared = SimpleNamespace(stack_name="items-dev", template_sha256="a" * 64, template={"Resources": {}},
                               tags={"Environment": "dev"})
    config = {"RollbackTriggers": [{"Arn": ARN, "Type": "AWS::CloudWatch::CompositeAlarm"}], "MonitoringTimeInMinutes": 10}
    common = {"StackName": "items-dev", "ChangeSetName": stub_any(), "ChangeSetType": "UPDATE",
              "Description": stub_any(), "Capabilities": ["CAPABILITY_IAM"], "Parameters": [],
              "Tags": [{"Key": "Environment", "Value": "dev"}], "IncludeNestedStacks": False, "TemplateBody": "{}"}
    stub.add_response("create_change_set", {"Id": "cs1"}, {**common, "RollbackConfiguration": config})
    stub.add_response("create_change_set", {"Id": "cs2"}, common)
    assert changeset.create(cfn, prepared, {"TemplateBody": "{}"}, {}, True, rollback=config) == "cs1"
    assert changeset.create(cfn, prepared, {"TemplateBody": "{}"}, {}, True) == "cs2"
    stub.assert_no_pending_responses()


def stub_any():
    from botocore.stub import ANY

    return ANY


def test_credentials_that_may_not_read_alarms_are_guarded_by_the_stacks_own_alarm():
    cw, cw_stub = stubbed("cloudwatch")
    cw_stub.add_client_error("describe_alarms", "AccessDenied", "not authorized to perform cloudwatch:DescribeAlarms")
    cfn, cfn_stub = stubbed()
    stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/items-dev/0a1b"
    cfn_stub.add_response("describe_stack_resources", {"StackResources": [
        {"LogicalResourceId": "HealthAlarm", "ResourceType": "AWS::CloudWatch::CompositeAlarm",
         "ResourceStatus": "CREATE_COMPLETE", "Timestamp": "2026-01-01T00:00:00Z"}]}, {"StackName": stack_id})
    session = SimpleNamespace(target=SimpleNamespace(kind="aws"),
                              client=lambda service: cw if service == "cloudwatch" else cfn)
    decided = guard.decide(session, GUARDED, {"StackId": stack_id})
    assert decided.configuration()["RollbackTriggers"] == [{"Arn": ARN, "Type": "AWS::CloudWatch::CompositeAlarm"}]


def test_credentials_that_may_not_read_alarms_leave_a_first_create_unguarded_not_failed():
    cw, cw_stub = stubbed("cloudwatch")
    cw_stub.add_client_error("describe_alarms", "AccessDenied", "not authorized to perform cloudwatch:DescribeAlarms")
    session = SimpleNamespace(target=SimpleNamespace(kind="aws"), client=lambda service: cw)
    decided = guard.decide(session, GUARDED, None)
    assert decided.configuration() is None  # left out: the alarms do not exist before this create
