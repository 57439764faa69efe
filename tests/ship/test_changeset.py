"""Creating change sets: capabilities, unique names, and the empty change set recognised as no changes."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from botocore.stub import ANY

from blueprint import cli
from blueprint.errors import UserError
from blueprint.ship import changeset
from blueprint.ship.prepare import prepare
from tests.ship.stubs import stack, stubbed


def test_capabilities():
    unnamed = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/"}}}}
    named = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "x"}}}}
    assert changeset.capabilities(unnamed) == ["CAPABILITY_IAM"]
    assert changeset.capabilities(named) == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]


def test_change_set_name_is_unique_within_one_second_and_carries_the_template_hash(monkeypatch):
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

    monkeypatch.setattr(changeset, "datetime", Frozen)
    names = [changeset.change_set_name("abcdef0123456789") for _ in range(200)]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.fullmatch(r"bp-20260101120000-abcdef01-[0-9a-f]{8}", name)
        assert re.fullmatch(r"[a-zA-Z][-a-zA-Z0-9]{0,127}", name)  # CloudFormation's rule for the name


def test_no_changes_is_recognised():
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason":
                                    "The submitted information didn't contain changes. Submit different information."})
    assert changeset.is_no_changes({"Status": "FAILED", "StatusReason": "No updates are to be performed."})
    assert not changeset.is_no_changes({"Status": "FAILED", "StatusReason": "Template format error"})


def test_a_create_names_the_environments_stack_under_another_name_and_how_to_delete_it(project, monkeypatch):
    assert cli.main(["--root", str(project), "render"]) == 0
    prepared = prepare(project, "dev", with_package=False)
    old = stack("CREATE_COMPLETE", "legacy-dev", EnableTerminationProtection=True)
    monkeypatch.setattr(changeset, "environment_stacks", lambda cfn, env, tag, name: [old] if
                        (env, tag, name) == ("dev", "development", "items-dev") else [])
    cfn, _ = stubbed(endpoint_url="http://127.0.0.1:5000")
    [found] = changeset.previous_stacks(cfn, prepared, "local")
    where = "--stack-name legacy-dev --region us-east-1 --endpoint-url http://127.0.0.1:5000"
    assert found == {"stack": "legacy-dev", "status": "CREATE_COMPLETE", "region": "us-east-1",
                     "delete_command": f"aws cloudformation delete-stack {where}",
                     "unprotect_command": "aws cloudformation update-termination-protection "
                                          f"--no-enable-termination-protection {where}"}
    note = changeset.previous_note(prepared, found)
    assert note.startswith("NOTE: this change set creates a new stack, items-dev, while legacy-dev (CREATE_COMPLETE)")
    assert "If `service` was renamed, that is this environment's old stack" in note
    assert f"`aws cloudformation delete-stack {where}`" in note and "termination protection" in note


def _stub_create(stub, change_set_type, **expected):
    stub.add_response("create_change_set", {"Id": "arn:cs", "StackId": "arn:stack"}, {
        "StackName": "items-dev", "ChangeSetName": ANY, "ChangeSetType": change_set_type, "Description": ANY,
        "Capabilities": ANY, "Parameters": [], "Tags": ANY, "IncludeNestedStacks": False, "TemplateBody": "x",
        **expected})


def test_revert_drift_sends_deployment_mode_on_an_update_only(project):
    assert cli.main(["--root", str(project), "render"]) == 0
    prepared = prepare(project, "dev", with_package=False)
    cfn, stub = stubbed()
    _stub_create(stub, "UPDATE", DeploymentMode="REVERT_DRIFT")
    assert changeset.create(cfn, prepared, {"TemplateBody": "x"}, {}, True, revert_drift=True) == "arn:cs"
    _stub_create(stub, "CREATE")  # a new stack has no drift: no DeploymentMode
    changeset.create(cfn, prepared, {"TemplateBody": "x"}, {}, False, revert_drift=True)
    _stub_create(stub, "UPDATE")  # not asked: not sent
    changeset.create(cfn, prepared, {"TemplateBody": "x"}, {}, True)
    stub.assert_no_pending_responses()


def test_revert_drift_needs_an_sdk_that_has_it_and_says_what_it_did(monkeypatch):
    cfn, _ = stubbed()
    changeset.check_revert_drift(cfn)  # the pinned botocore has DeploymentMode
    members = cfn.meta.service_model.operation_model("CreateChangeSet").input_shape.members
    monkeypatch.delitem(members, "DeploymentMode")
    with pytest.raises(UserError, match="does not have: run `make install`"):
        changeset.check_revert_drift(cfn)
    assert "the local AWS ignores it" in changeset.revert_drift_note(True, "local")
    assert "DeploymentMode=REVERT_DRIFT" in changeset.revert_drift_note(True, "aws")
    assert "does not exist yet" in changeset.revert_drift_note(False, "aws")
