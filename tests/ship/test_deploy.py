"""deploy's refusals before anything runs: another target, a changed template, a change set that cannot run as reviewed."""
from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest

from blueprint.errors import DeployFailed, Refused, UserError
from blueprint.ship import aws, deploy, records
from blueprint.ship.deploy import check_available, check_reviewed, spec_warning
from blueprint.ship.prepare import spec_digests
from tests.ship.stubs import CS_ID, STACK_ID, T0, record, stack, stubbed


def test_deploy_refuses_another_target_and_a_changed_template(project):
    with pytest.raises(UserError, match="for --target local, not aws"):
        check_reviewed(project, "dev", record(), "aws")
    with pytest.raises(UserError, match="generated/dev/template.yaml changed since change set bp-1"):
        check_reviewed(project, "dev", record(), "local")


def described_change_set(execution="AVAILABLE", status="CREATE_COMPLETE", code_key=f"handler/{'1' * 64}.zip"):
    return {"ChangeSetId": CS_ID, "ChangeSetName": "bp-1", "StackId": STACK_ID, "StackName": "items-dev",
            "Status": status, "ExecutionStatus": execution, "CreationTime": T0,
            "Parameters": [{"ParameterKey": "CodeKey", "ParameterValue": code_key}]}


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


def test_a_record_naming_a_change_set_of_another_package_is_refused():
    """A record is a file (CI: another job's artifact): the change set it names must deploy its package."""
    cfn, stub = stubbed()
    stub.add_response("describe_change_set", described_change_set(code_key=f"handler/{'2' * 64}.zip"))
    with pytest.raises(Refused, match=r"deploys CodeKey 'handler/2{64}.zip', not the reviewed package handler/1{64}"):
        check_available(cfn, record(target="aws"), "dev")


def test_a_spec_edited_since_the_review_is_a_warning_naming_it_and_the_way_to_review_it(project):
    reviewed = record(spec_files=spec_digests(project, ("blueprint.yaml", "envs/dev.yaml")))
    assert spec_warning(project, "dev", reviewed) is None
    path = project / "envs" / "dev.yaml"
    path.write_text(path.read_text() + "table:\n  read_capacity: 9\n")
    warning = spec_warning(project, "dev", reviewed)
    assert warning.startswith("warning: envs/dev.yaml (edited) changed since change set bp-1 was reviewed")
    assert "blueprint.yaml" not in warning.split(" changed since")[0]
    assert "this deploy runs the reviewed generated/dev/template.yaml" in warning
    assert "`make render`" in warning and "`make changeset ENV=dev TARGET=local`" in warning
    path.unlink()
    assert "envs/dev.yaml (deleted)" in spec_warning(project, "dev", reviewed)


def test_the_replacement_guard_reads_the_change_set_not_the_record(project, monkeypatch):
    """A record that lists nothing dangerous (a hand edit, an older tool) does not let a table replacement run."""
    reviewed = record(summary="0 to add, 1 to modify, 0 to replace, 0 to remove")
    path = records.write_record(project, "dev", reviewed)
    path.write_text(json.dumps({**json.loads(path.read_text()), "dangerous": []}))
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "items-dev-items"}}
    renamed = {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "items-dev-items2"}}
    cfn, stub = stubbed()
    stub.add_response("describe_change_set", {**described_change_set(), "Changes": [{"Type": "Resource", "ResourceChange": {
        "Action": "Modify", "LogicalResourceId": "Table", "ResourceType": "AWS::DynamoDB::Table", "Replacement": "True",
        "PhysicalResourceId": "items-dev-items", "Details": []}}]},
        {"ChangeSetName": CS_ID, "IncludePropertyValues": True})
    session = SimpleNamespace(client=lambda service: cfn, target=aws.Target("local", "us-east-1", "http://127.0.0.1:1"))
    monkeypatch.setattr(aws, "session_for", lambda *args: session)
    monkeypatch.setattr(aws, "check_account", lambda *args: "123456789012")
    monkeypatch.setattr(deploy, "check_reviewed", lambda *args: {"Resources": {"Table": renamed}})
    monkeypatch.setattr(deploy, "check_available", lambda *args: (stack("UPDATE_COMPLETE"), described_change_set()))
    monkeypatch.setattr(deploy, "check_template", lambda *args: None)  # the change set's is the reviewed one
    monkeypatch.setattr(deploy, "template_of", lambda *args: {"Resources": {"Table": table}})
    args = SimpleNamespace(root=project, env="dev", target="local", output="text", allow_replace=[])
    with pytest.raises(DeployFailed) as err:
        deploy.main(args)  # an ExecuteChangeSet would be an unexpected call to the stubbed client
    assert "replaces or removes stateful resource(s) Table" in str(err.value)
    assert "nothing was executed" in str(err.value) and "ALLOW_REPLACE=Table" in str(err.value)
    stub.assert_no_pending_responses()
    assert path.exists()  # nothing ran: the review still stands


@pytest.mark.parametrize("body", [
    "Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !Sub '${AWS::StackName}-items'}\n",
    json.dumps({"Resources": {"Table": {"Type": "AWS::DynamoDB::Table",
                                        "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-items"}}}}}),
], ids=["yaml", "json"])
def test_the_change_sets_own_template_must_be_the_reviewed_one(body):
    reviewed = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table",
                                        "Properties": {"TableName": {"Fn::Sub": "${AWS::StackName}-items"}}}}}
    cfn, stub = stubbed()
    expected = {"StackName": STACK_ID, "ChangeSetName": CS_ID, "TemplateStage": "Original"}
    stub.add_response("get_template", {"TemplateBody": body}, expected)
    deploy.check_template(cfn, {"StackId": STACK_ID}, record(), reviewed, "dev")  # the same: no refusal
    other = json.loads(json.dumps(reviewed))
    other["Resources"]["Admin"] = {"Type": "AWS::IAM::Role", "Properties": {}}
    other["Outputs"] = {"X": {"Value": "1"}}
    stub.add_response("get_template", {"TemplateBody": body}, expected)
    with pytest.raises(Refused) as err:
        deploy.check_template(cfn, {"StackId": STACK_ID}, record(), other, "dev")
    assert ("change set bp-1 would apply a template that is not the reviewed generated/dev/template.yaml "
            "(it differs in resource Admin, Outputs)") in str(err.value)
    assert "nothing was executed" in str(err.value)
    stub.assert_no_pending_responses()
