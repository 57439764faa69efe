"""Following a stack operation: each new event once, the end told by the stack's own event, failures first."""
from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest

from blueprint.errors import DeployFailed, UserError
from blueprint.ship import events as ev
from tests.ship.stubs import STACK_ID, T0, event, stack, stack_event, stubbed


@pytest.fixture
def no_sleep(monkeypatch):
    monkeypatch.setattr(ev.time, "sleep", lambda s: None)


def test_failure_message_puts_reasons_first():
    events = SimpleNamespace(failures=[{"LogicalResourceId": "Table", "ResourceType": "AWS::DynamoDB::Table",
                                        "ResourceStatus": "UPDATE_FAILED", "ResourceStatusReason": "limit exceeded"}])
    text = ev.failure_message({"StackId": "id", "StackName": "items-dev",
                                   "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}, events)
    assert text.splitlines() == ["failed resources:",
                                 "  Table (AWS::DynamoDB::Table) UPDATE_FAILED: limit exceeded",
                                 "stack items-dev ended UPDATE_ROLLBACK_COMPLETE"]


def test_event_stream_reads_only_new_events_once_across_pages():
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": [event("e3", "UPDATE_COMPLETE"), event("e2", "x")],
                                                "NextToken": "more"}, {"StackName": STACK_ID})
    events = ev.EventStream(cfn, STACK_ID)  # the marker: the newest event, from the first page only
    assert events.marker == "e3" and events.stack_name == "items-dev"
    # Two pages that overlap (e5 arrived between the calls and pushed e4 onto page 2); the read stops at e3.
    stub.add_response("describe_stack_events", {"StackEvents": [event("e5", "UPDATE_COMPLETE"),
                                                                event("e4", "UPDATE_IN_PROGRESS")],
                                                "NextToken": "p2"}, {"StackName": STACK_ID})
    stub.add_response("describe_stack_events", {"StackEvents": [event("e4", "UPDATE_IN_PROGRESS"),
                                                                event("e3", "UPDATE_COMPLETE"), event("e2", "x")]},
                      {"StackName": STACK_ID, "NextToken": "p2"})
    assert [e["EventId"] for e in events.new()] == ["e4", "e5"]  # oldest first, each once
    assert events.marker == "e5"
    stub.add_response("describe_stack_events", {"StackEvents": [event("e5", "UPDATE_COMPLETE")], "NextToken": "p2"},
                      {"StackName": STACK_ID})
    assert events.new() == []  # stops at the marker on the first page: no second page read
    assert not events.settled
    stub.add_response("describe_stack_events", {"StackEvents": [
        stack_event("e8", "UPDATE_COMPLETE"), event("e7", "UPDATE_FAILED"),
        event("e6", "UPDATE_COMPLETE", "Nested", "AWS::CloudFormation::Stack")]}, {"StackName": STACK_ID})
    assert [e["EventId"] for e in events.new()] == ["e6", "e7", "e8"]
    assert events.settled and events.stack_status == "UPDATE_COMPLETE"  # the nested stack's event did not count
    assert [e["EventId"] for e in events.failures] == ["e7"]
    stub.assert_no_pending_responses()


def test_follow_waits_for_the_stacks_own_final_event_not_a_stale_status(no_sleep):
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("old", "UPDATE_COMPLETE")]})
    events = ev.EventStream(cfn, STACK_ID)
    # Right after ExecuteChangeSet: no stack event yet, so DescribeStacks (still UPDATE_COMPLETE) is not asked.
    stub.add_response("describe_stack_events", {"StackEvents": [event("r1", "UPDATE_IN_PROGRESS", seconds=1),
                                                                stack_event("old", "UPDATE_COMPLETE")]})
    stub.add_response("describe_stack_events", {"StackEvents": [stack_event("s2", "UPDATE_COMPLETE", 3),
                                                                event("r2", "UPDATE_COMPLETE", seconds=2),
                                                                event("r1", "UPDATE_IN_PROGRESS", seconds=1)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0)]})
    out = io.StringIO()
    final = ev.follow(cfn, STACK_ID, events, "dev", "aws", out=out)
    assert final["StackStatus"] == "UPDATE_COMPLETE"
    assert [line.split()[1] for line in out.getvalue().splitlines()] == ["Table", "Table", "items-dev"]
    stub.assert_no_pending_responses()


def test_follow_on_the_local_aws_falls_back_to_a_changed_stack_description(no_sleep):
    cfn, stub = stubbed()
    before = stack("UPDATE_COMPLETE", LastUpdatedTime=T0)
    stub.add_response("describe_stack_events", {"StackEvents": []})
    events = ev.EventStream(cfn, STACK_ID)
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", {"Stacks": [before]})  # stale: what it was before the execution
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0 + timedelta(1))]})
    stub.add_response("describe_stack_events", {"StackEvents": []})
    final = ev.follow(cfn, STACK_ID, events, "dev", "local", before, out=io.StringIO())
    assert final["LastUpdatedTime"] == T0 + timedelta(1)
    stub.assert_no_pending_responses()


def test_expired_credentials_while_following_say_that_cloudformation_goes_on(no_sleep):
    cfn, stub = stubbed()
    stub.add_response("describe_stack_events", {"StackEvents": []})
    events = ev.EventStream(cfn, STACK_ID)
    stub.add_client_error("describe_stack_events", "ExpiredToken", "The security token included in the request is expired")
    with pytest.raises(UserError) as err:
        ev.follow(cfn, STACK_ID, events, "dev", "aws", out=io.StringIO())
    assert "credentials have expired" in str(err.value)
    assert "CloudFormation keeps working on the stack; follow it with `make status ENV=dev`" in str(err.value)
    stub.add_client_error("describe_stack_events", "Throttling", "Rate exceeded")
    with pytest.raises(DeployFailed, match=r"(?s)throttled.*make status ENV=dev"):
        ev.follow(cfn, STACK_ID, events, "dev", "aws", out=io.StringIO())
