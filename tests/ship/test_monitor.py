"""A guarded deploy's watch (blueprint.ship.monitor) over stubbed CloudFormation and CloudWatch: the window
announced once every resource is done, state changes shown even in CI, the rollback's alarm named, and a create
executed with RetainExceptOnCreate."""
from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from blueprint.errors import DeployFailed
from blueprint.ship.events import STACK_TIMEOUT_S, stack_timeout_s
from blueprint.ship.execute import execute
from blueprint.ship.monitor import Watch
from tests.ship.stubs import CS_ID, STACK_ID, event, stack, stack_event, stubbed

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:items-dev-health"
CONFIG = {"RollbackTriggers": [{"Arn": ARN, "Type": "AWS::CloudWatch::CompositeAlarm"}], "MonitoringTimeInMinutes": 1}


def alarms(stub, *states):
    for state, reason in states:
        stub.add_response("describe_alarms", {"MetricAlarms": [], "CompositeAlarms": [
            {"AlarmName": "items-dev-health", "AlarmArn": ARN, "StateValue": state, "StateReason": reason}]})


def session(cw):
    return SimpleNamespace(target=SimpleNamespace(kind="local", region="us-east-1"), client=lambda service: cw)


def test_an_update_rolled_back_by_its_trigger_names_the_alarm_and_exits_1():
    cfn, stub = stubbed()
    cw, cw_stub = stubbed("cloudwatch", endpoint_url="http://127.0.0.1:1")
    alarms(cw_stub, ("OK", ""), ("ALARM", "5XX above 1%"))
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("e0", "UPDATE_COMPLETE")]})
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})  # an update: no RetainExceptOnCreate
    stub.add_response("describe_stack_events", {"StackEvents": [
        event("e2", "UPDATE_COMPLETE", seconds=2), event("e1", "UPDATE_IN_PROGRESS", seconds=1),
        stack_event("s1", "UPDATE_IN_PROGRESS"), stack_event("e0", "UPDATE_COMPLETE")]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_IN_PROGRESS")]})
    reason = f"Rollback trigger {ARN} (alarm items-dev-health) is in ALARM state."
    stub.add_response("describe_stack_events", {"StackEvents": [
        {**stack_event("s3", "UPDATE_ROLLBACK_COMPLETE", 9)}, {**stack_event("s2", "UPDATE_ROLLBACK_IN_PROGRESS", 8),
                                                               "ResourceStatusReason": reason},
        event("e2", "UPDATE_COMPLETE", seconds=2)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_ROLLBACK_COMPLETE", StackStatusReason=reason)]})
    out = io.StringIO()
    watch = Watch(session(cw), CONFIG, 0.0, out, progress=False, expected={"Table"})
    watch.every_s = 0  # read the alarm at each poll
    with pytest.raises(DeployFailed) as err:
        execute(cfn, CS_ID, STACK_ID, "dev", "local", {"StackStatus": "UPDATE_COMPLETE"}, watch=watch)
    message = str(err.value)
    assert message.startswith("rolled back: the rollback trigger items-dev-health went to ALARM (5XX above 1%)")
    assert "put items-dev back on its previous template (UPDATE_ROLLBACK_COMPLETE)" in message
    assert "describe-alarm-history --alarm-name items-dev-health --region us-east-1 --endpoint-url" in message
    shown = out.getvalue()
    assert "every resource is done; CloudFormation now watches items-dev-health for 1 min" in shown
    assert "alarm items-dev-health: OK → ALARM (5XX above 1%)" in shown  # changes show even without a terminal
    assert "monitoring," not in shown  # no progress lines off a terminal
    stub.assert_no_pending_responses()


def test_a_create_is_executed_with_retain_except_on_create():
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID, "RetainExceptOnCreate": True})
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("s1", "CREATE_COMPLETE")]})
    stub.add_response("describe_stacks", {"Stacks": [stack("CREATE_COMPLETE")]})
    assert execute(cfn, CS_ID, STACK_ID, "dev", "aws", create=True)["StackStatus"] == "CREATE_COMPLETE"
    stub.assert_no_pending_responses()


def test_a_watch_without_triggers_calls_nothing_and_says_unguarded():
    watch = Watch(session(None), None, 0.0, io.StringIO())
    watch.poll(SimpleNamespace(stack_status="UPDATE_IN_PROGRESS", resources_seen=True, busy=set()))
    assert not watch.guarded and watch.summary({}) == "unguarded: no rollback trigger watched this deploy"


def test_the_stack_is_followed_through_the_longest_monitoring_window():
    assert stack_timeout_s(180) == STACK_TIMEOUT_S + 180 * 60 > 180 * 60


def test_the_window_opens_only_once_every_added_or_modified_resource_is_complete():
    cw, cw_stub = stubbed("cloudwatch")
    alarms(cw_stub, ("OK", ""))
    out = io.StringIO()
    watch = Watch(session(cw), CONFIG, 60.0, out, progress=False, expected={"Table", "Function"})
    # Table done, Function not started yet (it waits for Table): nothing in progress, but not the window.
    events = SimpleNamespace(stack_status="UPDATE_IN_PROGRESS", resources_seen=True, busy=set(), completed={"Table"})
    watch.poll(events)
    assert watch.window_started is None and out.getvalue() == ""
    events.completed = {"Table", "Function"}
    watch.poll(events)
    assert watch.window_started is not None and "now watches items-dev-health for 1 min" in out.getvalue()


def test_a_terminal_gets_progress_lines_through_the_window_and_ci_does_not(monkeypatch):
    cw, cw_stub = stubbed("cloudwatch")
    alarms(cw_stub, ("OK", ""))
    out = io.StringIO()
    watch = Watch(session(cw), CONFIG, 60.0, out, progress=True, expected={"Table"})
    watch.shown_every_s = 0
    events = SimpleNamespace(stack_status="UPDATE_IN_PROGRESS", resources_seen=True, busy=set(), completed={"Table"})
    watch.poll(events)  # opens the window
    watch.poll(events)  # a progress line
    assert "monitoring, 60 s left: items-dev-health OK" in out.getvalue()

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert Watch(session(cw), CONFIG, 60.0, Terminal()).progress is True
    monkeypatch.setenv("CI", "true")
    assert Watch(session(cw), CONFIG, 60.0, Terminal()).progress is False
    assert Watch(session(cw), CONFIG, 60.0, io.StringIO()).progress is False
