"""deploy's refusals before anything runs: another target, a changed template, a change set that cannot run as reviewed."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprint.errors import UserError
from blueprint.ship.deploy import check_available, check_reviewed
from tests.ship.stubs import CS_ID, STACK_ID, T0, record, stack, stubbed


def test_deploy_refuses_another_target_and_a_changed_template(project):
    with pytest.raises(UserError, match="for --target local, not aws"):
        check_reviewed(project, "dev", record(), "aws")
    with pytest.raises(UserError, match="generated/dev/template.yaml changed since change set bp-1"):
        check_reviewed(project, "dev", record(), "local")


def described_change_set(execution="AVAILABLE", status="CREATE_COMPLETE"):
    return {"ChangeSetId": CS_ID, "ChangeSetName": "bp-1", "StackId": STACK_ID, "StackName": "items-dev",
            "Status": status, "ExecutionStatus": execution, "CreationTime": T0}


def summary(cs_id, name, created, status="CREATE_COMPLETE"):
    return {"ChangeSetId": cs_id, "ChangeSetName": name, "StackId": STACK_ID, "StackName": "items-dev",
            "Status": status, "ExecutionStatus": "AVAILABLE", "CreationTime": created}


def test_check_available_refuses_obsolete_gone_superseded_and_changed():
    reviewed = record(target="aws")
    cfn, stub = stubbed()
    stub.add_client_error("describe_change_set", "ChangeSetNotFound", "ChangeSet [bp-1] does not exist")
    with pytest.raises(UserError, match=r"change set bp-1 is gone .*make changeset ENV=dev"):
        check_available(cfn, reviewed, "dev")

    stub.add_response("describe_change_set", described_change_set("OBSOLETE"), {"ChangeSetName": CS_ID})
    with pytest.raises(UserError, match=r"bp-1 is CREATE_COMPLETE/OBSOLETE, no longer executable"):
        check_available(cfn, reviewed, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)], "NextToken": "n"},
                      {"StackName": STACK_ID})
    stub.add_response("list_change_sets", {"Summaries": [summary("arn:other", "someone-else", T0 + timedelta(1)),
                                                         summary("arn:empty", "empty", T0 + timedelta(1), "FAILED")]},
                      {"StackName": STACK_ID, "NextToken": "n"})
    with pytest.raises(UserError, match=r"someone-else were created on stack items-dev after the reviewed bp-1"):
        check_available(cfn, reviewed, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0 + timedelta(1))]})
    with pytest.raises(UserError, match=r"stack items-dev changed since change set bp-1 was reviewed"):
        check_available(cfn, reviewed, "dev")

    stub.add_response("describe_change_set", described_change_set())
    stub.add_response("list_change_sets", {"Summaries": [summary(CS_ID, "bp-1", T0)]})
    stub.add_response("describe_stacks", {"Stacks": [stack("UPDATE_COMPLETE", LastUpdatedTime=T0)]})
    found, described = check_available(cfn, reviewed, "dev")
    assert found["StackId"] == STACK_ID and described["ChangeSetId"] == CS_ID
    stub.assert_no_pending_responses()
